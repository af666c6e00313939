using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Mixpanel;
using static CohortSync.Mixpanel.Sender;

namespace CohortSync.Simulate;

/// <summary>The read API answered something other than a page of members or its own 404 for an unknown cohort.</summary>
public sealed class ReadApiException(string message) : Exception(message);

/// <summary>
/// The service as the simulator reaches it: the webhook, called as Mixpanel calls it, and the read API,
/// to check the result. One <see cref="HttpClient"/> for every call, so connections are reused.
/// </summary>
public sealed class ServiceClient : IDisposable
{
    readonly HttpClient http;
    readonly Uri webhookUrl;
    readonly Uri readApiBase;
    readonly TimeSpan callTimeout;
    readonly int readLimit;
    readonly AuthenticationHeaderValue? basic;
    readonly AuthenticationHeaderValue? bearer;

    // A 1,000-member page renders to some 200 KB: each call borrows a buffer that has already grown to
    // that size instead of allocating it again. At most one per call in flight.
    readonly ConcurrentBag<ArrayBufferWriter<byte>> buffers = [];

    public ServiceClient(SimulateOptions options)
    {
        webhookUrl = options.WebhookUrl;
        readApiBase = options.ReadApiBase;
        callTimeout = options.CallTimeout;
        readLimit = options.ReadLimit;
        basic = options.WebhookAuthorization;
        bearer = options.ReadApiAuthorization;
        // Each call has its own timeout (a timed-out call is an unanswered call, not an error).
        http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Posts one page: the HTTP status, or no answer when the connection failed or timed out.</summary>
    public async Task<Answer> PostPageAsync(WebhookPage page, CancellationToken ct)
    {
        var body = buffers.TryTake(out var pooled) ? pooled : new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            body.ResetWrittenCount();
            PageBody.RenderTo(body, page);
            using var request = new HttpRequestMessage(HttpMethod.Post, webhookUrl);
            request.Content = new ReadOnlyMemoryContent(body.WrittenMemory);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Authorization = basic;

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(callTimeout);
            try
            {
                // The reply is read to its end, which returns the connection to the pool.
                using var response = await http.SendAsync(request, timeout.Token);
                return Answer.Of((int)response.StatusCode);
            }
            catch (HttpRequestException)
            {
                return Answer.NoAnswer;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return Answer.NoAnswer;
            }
        }
        finally
        {
            buffers.Add(body);
        }
    }

    /// <summary>
    /// Whether the service holds the cohort now (<c>GET /v1/cohorts/{project}/{cohort}</c>); null when the read
    /// API did not say within a call's timeout (unreachable, refused, or not the read API): the check after the
    /// run reports that, this read must not hold the syncs up.
    /// </summary>
    public async Task<bool?> CohortExistsAsync(ProjectId project, CohortId cohort, CancellationToken ct)
    {
        var path = $"v1/cohorts/{Uri.EscapeDataString(project.Value)}/{Uri.EscapeDataString(cohort.Value)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(readApiBase, path));
        request.Headers.Authorization = bearer;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(callTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => true,
                HttpStatusCode.NotFound when await ProblemOfAsync(response, timeout.Token) is not null => false,
                _ => null,
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>
    /// Every member id of a committed cohort, following the keyset cursor to the end; false when the
    /// service knows no such cohort (its 404 with an error body: none of its sessions has committed).
    /// </summary>
    public async Task<bool> ReadMemberIdsAsync(ProjectId project, CohortId cohort, Action<string> onMember, CancellationToken ct)
    {
        string? after = null;
        // A keyset cursor only moves forward: one seen again would make the read go round for ever.
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var path = $"v1/cohorts/{Uri.EscapeDataString(project.Value)}/{Uri.EscapeDataString(cohort.Value)}/members?limit={readLimit}"
                       + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(readApiBase, path));
            request.Headers.Authorization = bearer;
            // The page is parsed as it arrives rather than buffered first: a connection that breaks in the middle
            // of it then throws HttpIOException from the parse.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var problem = await ProblemOfAsync(response, ct);
                // Only the read API's own 404, which names the cohort in its error body, means "no such cohort":
                // a bare 404 is a route the service does not know, so --api-url is not the read API's base.
                if (response.StatusCode == HttpStatusCode.NotFound && after is null && problem is not null)
                    return false;
                throw new ReadApiException(Refusal(request, response.StatusCode, problem));
            }

            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            using var page = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            foreach (var m in page.RootElement.GetProperty("members").EnumerateArray())
                onMember(m.GetProperty("distinctId").GetString()!);
            var next = page.RootElement.GetProperty("next");
            after = next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (after is not null && !cursors.Add(after))
                throw new ReadApiException($"GET {request.RequestUri} answered a cursor it had already given (next = {after}): the read would never end");
        } while (after is not null);

        return true;
    }

    string Refusal(HttpRequestMessage request, HttpStatusCode status, string? problem)
    {
        var hint = status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when bearer is null => " (does the service require an API key? give --api-key)",
            HttpStatusCode.BadRequest when problem?.Contains("limit", StringComparison.Ordinal) == true =>
                $": --read-limit {readLimit} is more than the service allows; lower it to the service's Api:MaxPageSize",
            HttpStatusCode.NotFound when problem is null =>
                $" without the read API's error body: {readApiBase} is not the read API's base (give --api-url)",
            _ => "",
        };
        return $"GET {request.RequestUri} answered {(int)status}{(problem is null ? "" : $" ({problem})")}{hint}";
    }

    /// <summary>The read API's refusals carry <c>{"error": "..."}</c>; anything else (an empty body, a proxy's page) is null.</summary>
    static async Task<string?> ProblemOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            using var body = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            return body.RootElement.ValueKind == JsonValueKind.Object
                   && body.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                ? error.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => http.Dispose();
}
