using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CohortSync.Domain;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>The answer to one webhook call, already checked against the response contract.</summary>
public sealed record Reply(HttpStatusCode Status, string Action, string Outcome, string? ErrorMessage, HttpResponseHeaders Headers, string Raw)
{
    public int Code => (int)Status;
    public override string ToString() => $"{Code} {Raw}";
}

/// <summary>Members as the read API lists them.</summary>
public sealed record MemberJson(string DistinctId, string? Email, string? FirstName, string? LastName, string? PhoneNumber, JsonElement Properties);

public static class WebhookClient
{
    public const string Path = "/webhook";

    public static AuthenticationHeaderValue Basic(string username, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));

    /// <summary>Posts a page and checks the reply echoes its action.</summary>
    public static async Task<Reply> PostAsync(this HttpClient client, WebhookPage page, AuthenticationHeaderValue? auth = null)
    {
        var reply = await client.PostRawAsync(page.Body(), auth);
        Assert.True(reply.Action == page.Action.WireName, $"action not echoed for {page.Describe()}: {reply}");
        return reply;
    }

    /// <summary>Posts a page and requires 200 success.</summary>
    public static async Task<Reply> PostOkAsync(this HttpClient client, WebhookPage page, AuthenticationHeaderValue? auth = null)
    {
        var reply = await client.PostAsync(page, auth);
        Assert.True(reply.Status == HttpStatusCode.OK, $"{page.Describe()}: expected 200, got {reply}");
        return reply;
    }

    public static Task<Reply> PostRawAsync(this HttpClient client, string body, AuthenticationHeaderValue? auth = null) =>
        client.PostRawAsync(Encoding.UTF8.GetBytes(body), auth);

    public static Task<Reply> PostRawAsync(this HttpClient client, byte[] body, AuthenticationHeaderValue? auth = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return client.SendWebhookAsync(content, auth);
    }

    /// <summary>Sends any content to the webhook and checks the reply's shape: <c>{action, status, error?}</c>,
    /// <c>error</c> exactly on failure, and the HTTP status equal to <c>error.code</c> (200 on success).</summary>
    public static async Task<Reply> SendWebhookAsync(this HttpClient client, HttpContent content, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = content };
        request.Headers.Authorization = auth;
        using var response = await client.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.True(
            response.Content.Headers.ContentType?.MediaType == "application/json",
            $"reply is not JSON: {(int)response.StatusCode} {response.Content.Headers.ContentType} {raw}");

        using var doc = JsonDocument.Parse(raw);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.True(root.TryGetProperty("action", out var action) && action.ValueKind == JsonValueKind.String, $"no action: {raw}");
        Assert.True(root.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String, $"no status: {raw}");
        var outcome = status.GetString()!;
        string? message = null;
        if (outcome == "success")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(root.TryGetProperty("error", out _), $"error on success: {raw}");
        }
        else
        {
            Assert.Equal("failure", outcome);
            Assert.True(root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object, $"no error: {raw}");
            Assert.True(error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String, $"no error.message: {raw}");
            Assert.True(error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number, $"no error.code: {raw}");
            Assert.Equal((int)response.StatusCode, code.GetInt32());
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            message = m.GetString();
            Assert.False(string.IsNullOrWhiteSpace(message), $"empty error.message: {raw}");
        }
        return new Reply(response.StatusCode, action.GetString()!, outcome, message, response.Headers, raw);
    }

    /// <summary>Every member of a cohort, following <c>next</c> cursors; null when the cohort is unknown (404).</summary>
    public static async Task<List<MemberJson>?> TryGetAllMembersAsync(
        this HttpClient client, TestCohort cohort, int limit = 1000, List<int>? pageSizes = null)
    {
        var all = new List<MemberJson>();
        string? after = null;
        for (var round = 0; round < 100_000; round++)
        {
            var url = $"/v1/cohorts/{Uri.EscapeDataString(cohort.Project)}/{Uri.EscapeDataString(cohort.Cohort)}/members?limit={limit}"
                      + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            using var response = await client.GetAsync(url);
            var raw = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.NotFound && after is null)
                return null;
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {raw}");

            using var doc = JsonDocument.Parse(raw);
            var members = doc.RootElement.GetProperty("members");
            var page = members.EnumerateArray().Select(ReadMember).ToList();
            pageSizes?.Add(page.Count);
            all.AddRange(page);
            var next = doc.RootElement.GetProperty("next");
            if (next.ValueKind == JsonValueKind.Null)
                break;
            Assert.Equal(limit, page.Count);
            after = next.GetString();
        }

        var ids = all.Select(m => m.DistinctId).ToList();
        Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        return all;
    }

    /// <summary>Every member of a cohort (an unknown cohort has none).</summary>
    public static async Task<List<MemberJson>> GetAllMembersAsync(this HttpClient client, TestCohort cohort, int limit = 1000) =>
        await client.TryGetAllMembersAsync(cohort, limit) ?? [];

    /// <summary>The distinct ids in a cohort, in the order the API lists them.</summary>
    public static async Task<string[]> MemberIdsAsync(this HttpClient client, TestCohort cohort, int limit = 1000) =>
        (await client.GetAllMembersAsync(cohort, limit)).Select(m => m.DistinctId).ToArray();

    static MemberJson ReadMember(JsonElement m)
    {
        static string? Text(JsonElement el, string name) =>
            el.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new MemberJson(
            m.GetProperty("distinctId").GetString()!, Text(m, "email"), Text(m, "firstName"), Text(m, "lastName"),
            Text(m, "phoneNumber"), m.GetProperty("properties").Clone());
    }
}
