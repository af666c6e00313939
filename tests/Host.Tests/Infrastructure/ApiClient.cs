using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>A read API answer: status, JSON body (every answer of /v1 is JSON) and headers.</summary>
public sealed record ApiReply(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers, string Raw)
{
    public int Code => (int)Status;

    /// <summary>The problem body's message (<c>{"error": ...}</c>).</summary>
    public string Error => Body.GetProperty("error").GetString()!;

    public override string ToString() => $"{Code} {Raw}";
}

/// <summary>Calls to /v1, with an optional Bearer key.</summary>
public static class ApiClient
{
    /// <summary>A path of percent-encoded segments: ids may hold any text.</summary>
    public static string PathOf(params string[] segments) => "/" + string.Join("/", segments.Select(Uri.EscapeDataString));

    public static Task<ApiReply> GetApiAsync(this HttpClient client, string url, string? key = null) =>
        client.SendApiAsync(HttpMethod.Get, url, null, key);

    public static Task<ApiReply> PutApiAsync(this HttpClient client, string url, string body, string? key = null) =>
        client.SendApiAsync(HttpMethod.Put, url, new StringContent(body, Encoding.UTF8, "application/json"), key);

    public static async Task<ApiReply> SendApiAsync(this HttpClient client, HttpMethod method, string url, HttpContent? content, string? key)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json",
            $"{method} {url}: not JSON: {(int)response.StatusCode} {response.Content.Headers.ContentType} {raw}");
        using var doc = JsonDocument.Parse(raw);
        return new ApiReply(response.StatusCode, doc.RootElement.Clone(), response.Headers, raw);
    }

    /// <summary>GET that must answer 200; its body.</summary>
    public static async Task<JsonElement> GetOkAsync(this HttpClient client, string url, string? key = null)
    {
        var reply = await client.GetApiAsync(url, key);
        Assert.True(reply.Status == HttpStatusCode.OK, $"GET {url}: {reply}");
        return reply.Body;
    }

    /// <summary>GET that must answer 404 with a problem body; its message.</summary>
    public static async Task<string> GetNotFoundAsync(this HttpClient client, string url, string? key = null)
    {
        var reply = await client.GetApiAsync(url, key);
        Assert.True(reply.Status == HttpStatusCode.NotFound, $"GET {url}: expected 404, got {reply}");
        return reply.Error;
    }

    /// <summary>Every item of a keyset-paged list, following <c>next</c> until it is null; each full page
    /// but the last has exactly <paramref name="limit"/> items.</summary>
    public static async Task<List<JsonElement>> GetAllPagesAsync(
        this HttpClient client, string url, string items, int limit, string? key = null, List<int>? pageSizes = null)
    {
        var all = new List<JsonElement>();
        string? after = null;
        var separator = url.Contains('?') ? "&" : "?";
        for (var round = 0; round < 10_000; round++)
        {
            var body = await client.GetOkAsync(
                $"{url}{separator}limit={limit}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"), key);
            var page = body.GetProperty(items).EnumerateArray().ToList();
            pageSizes?.Add(page.Count);
            all.AddRange(page);
            var next = body.GetProperty("next");
            if (next.ValueKind == JsonValueKind.Null)
                return all;
            Assert.Equal(limit, page.Count);
            after = next.GetString();
        }
        throw new InvalidOperationException($"{url} never ended");
    }

    public static string Text(this JsonElement element, string name) => element.GetProperty(name).GetString()!;
}
