using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace CohortSync.Simulate.Load;

/// <summary>The load run stops: a page was refused or not answered, or the service did not show the commit.</summary>
public sealed class LoadAbortedException(string message) : Exception(message);

/// <summary>What <c>GET /v1/cohorts/{project}/{cohort}</c> says: the member count and the latest session.</summary>
public sealed record CohortState(long MemberCount, string? LastSessionId, string? LastSessionState);

/// <summary>
/// The service as the load run reaches it. Unlike <see cref="ServiceClient"/>, which renders each page per call and
/// reads an unanswered call as a fault to retry, this posts bodies rendered beforehand and treats anything but a
/// 2xx as the end of the run: load mode measures a fault-free sync.
/// </summary>
public sealed class LoadClient : IDisposable
{
    static readonly MediaTypeHeaderValue Json = new("application/json");

    readonly HttpClient http;
    readonly Uri webhookUrl;
    readonly Uri readApiBase;
    readonly TimeSpan callTimeout;
    readonly AuthenticationHeaderValue? basic;
    readonly AuthenticationHeaderValue? bearer;

    public LoadClient(SimulateOptions options)
    {
        webhookUrl = options.WebhookUrl;
        readApiBase = options.ReadApiBase;
        callTimeout = options.CallTimeout;
        basic = options.WebhookAuthorization;
        bearer = options.ReadApiAuthorization;
        http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Posts one rendered page and reads the answer to its end; throws <see cref="LoadAbortedException"/>
    /// unless it is a 2xx.</summary>
    public async Task PostPageAsync(byte[] body, string pageName, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhookUrl);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = Json;
        request.Headers.Authorization = basic;
        using var response = await SendAsync(request, pageName, ct);
        if (!response.IsSuccessStatusCode)
            throw new LoadAbortedException(
                $"{pageName} was answered {(int)response.StatusCode} {response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    /// <summary>The cohort as the read API shows it; null while the service does not know it (its 404).</summary>
    public async Task<CohortState?> CohortAsync(string project, string cohort, CancellationToken ct)
    {
        using var request = Get($"v1/cohorts/{Uri.EscapeDataString(project)}/{Uri.EscapeDataString(cohort)}");
        using var response = await SendAsync(request, $"GET {request.RequestUri}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureOkAsync(request, response, ct);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
        var root = doc.RootElement;
        var last = root.GetProperty("lastSession");
        return last.ValueKind == JsonValueKind.Object
            ? new CohortState(root.GetProperty("memberCount").GetInt64(), last.GetProperty("sessionId").GetString(), last.GetProperty("state").GetString())
            : new CohortState(root.GetProperty("memberCount").GetInt64(), null, null);
    }

    /// <summary>Whether the user is a member now: 200 yes, 404 no (the count says whether the cohort itself exists).</summary>
    public async Task<bool> IsMemberAsync(string project, string cohort, string distinctId, CancellationToken ct)
    {
        using var request = Get($"v1/cohorts/{Uri.EscapeDataString(project)}/{Uri.EscapeDataString(cohort)}/members/{Uri.EscapeDataString(distinctId)}");
        using var response = await SendAsync(request, $"GET {request.RequestUri}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        await EnsureOkAsync(request, response, ct);
        return true;
    }

    HttpRequestMessage Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(readApiBase, path));
        request.Headers.Authorization = bearer;
        return request;
    }

    /// <summary>Sends and buffers the whole answer (a latency runs to the answer's last byte), within the call timeout.</summary>
    async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(callTimeout);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new LoadAbortedException($"{what}: no answer within {callTimeout.TotalSeconds:0.#} s (--timeout)");
        }
        catch (HttpRequestException e)
        {
            throw new LoadAbortedException($"{what}: no answer ({e.Message})");
        }
    }

    static async Task EnsureOkAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken ct)
    {
        if (response.StatusCode != HttpStatusCode.OK)
            throw new LoadAbortedException(
                $"GET {request.RequestUri} answered {(int)response.StatusCode} {response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}"
                + (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (give the read API's key with --api-key)" : ""));
    }

    public void Dispose() => http.Dispose();
}
