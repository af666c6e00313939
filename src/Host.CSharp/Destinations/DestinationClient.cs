using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Destinations;

/// <summary>
/// How one attempt ended: <c>Outcome</c> is delivered (a 2xx), gone (410), failed (any other status, 3xx
/// included: redirects are not followed), timeout, unreachable or refused (the address guard); for Mixpanel's
/// <c>/import</c> also partial (a 400: the valid events were ingested, <c>FailedRecords</c> the JSON of the
/// others) and unauthorized (401 or 403). <c>RetryAfter</c> is what a 429 or 503 asked for (negative: nothing).
/// </summary>
public sealed record DeliveryAnswer(int? Status, string Outcome, string? Error, TimeSpan RetryAfter, TimeSpan Latency, string? FailedRecords = null)
{
    public const string Delivered = "delivered", Gone = "gone", Failed = "failed", Timeout = "timeout", Unreachable = "unreachable", Refused = "refused",
        Partial = "partial", Unauthorized = "unauthorized";
    public static readonly string[] Outcomes = [Delivered, Gone, Failed, Timeout, Unreachable, Refused, Partial, Unauthorized];

    /// <summary>The batch is done: every event was taken, or those refused never will be.</summary>
    public bool Done => Outcome is Delivered or Partial;
}

/// <summary>POSTs batches with the Standard Webhooks headers. A destination gets no say over where the call goes.</summary>
public sealed class DestinationClient : IDisposable
{
    readonly HttpClient http;

    public DestinationClient(IOptions<DestinationOptions> options)
    {
        var o = options.Value;
        http = NewHttpClient(o, guardAddresses: o.RefusePrivateNetworks);
    }

    /// <summary>
    /// A client that follows no redirect, sends no cookie, uses no proxy and waits <c>TimeoutSeconds</c> at most.
    /// With <paramref name="guardAddresses"/> it connects only where the address guard allows (a destination's URL
    /// is the user's; Mixpanel's hosts come from configuration and need no guard).
    /// </summary>
    internal static HttpClient NewHttpClient(DestinationOptions o, bool guardAddresses)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
        };
        if (guardAddresses)
            handler.ConnectCallback = (context, ct) => AddressGuard.ConnectAsync(context.DnsEndPoint, o.AllowLoopback, ct);
        var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds) };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CohortSync", "1"));
        return http;
    }

    public async Task<DeliveryAnswer> PostAsync(string url, string webhookId, ReadOnlyMemory<byte> body, IEnumerable<string> secrets, CancellationToken ct)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation("webhook-id", webhookId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", SigningSecret.Header(secrets, webhookId, timestamp, body));
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            var outcome = status is >= 200 and < 300 ? DeliveryAnswer.Delivered : status == 410 ? DeliveryAnswer.Gone : DeliveryAnswer.Failed;
            var retryAfter = status is 429 or 503 ? RetryAfter(response.Headers.RetryAfter) : TimeSpan.FromTicks(-1);
            return new DeliveryAnswer(status, outcome, outcome == DeliveryAnswer.Failed ? $"HTTP {status}" : null, retryAfter, clock.Elapsed);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryAnswer(null, DeliveryAnswer.Timeout, $"no answer within {http.Timeout.TotalSeconds:0} s", TimeSpan.FromTicks(-1), clock.Elapsed);
        }
        catch (HttpRequestException e) when (e.InnerException is AddressRefusedException refused)
        {
            return new DeliveryAnswer(null, DeliveryAnswer.Refused, refused.Message, TimeSpan.FromTicks(-1), clock.Elapsed);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryAnswer(null, DeliveryAnswer.Unreachable, e.HttpRequestError.ToString(), TimeSpan.FromTicks(-1), clock.Elapsed);
        }
    }

    internal static TimeSpan RetryAfter(RetryConditionHeaderValue? value) =>
        value?.Delta is { } delta ? delta
        : value?.Date is { } date ? (date - DateTimeOffset.UtcNow) is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero
        : TimeSpan.FromTicks(-1);

    public void Dispose() => http.Dispose();
}

/// <summary>The address guard refused every address the destination's host resolves to.</summary>
public sealed class AddressRefusedException(string message) : Exception(message);

/// <summary>
/// The SSRF guard: connects only to public addresses (and loopback, when allowed). Checked on the addresses
/// actually connected to, so a name that resolves differently at delivery than at creation gains nothing.
/// </summary>
static class AddressGuard
{
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowLoopback, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var allowed = addresses.Where(a => IsPublic(a) || (allowLoopback && IPAddress.IsLoopback(Unmapped(a)))).ToArray();
        if (allowed.Length == 0)
            throw new AddressRefusedException($"{endpoint.Host} resolves only to private or reserved addresses (Destinations:RefusePrivateNetworks)");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    internal static bool IsPublic(IPAddress address)
    {
        var a = Unmapped(address);
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) || a.Equals(IPAddress.Broadcast))
            return false;
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 || b[0] >= 224
                     || (b[0] == 169 && b[1] == 254) || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                     || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127));
        }
        var v6 = a.GetAddressBytes();
        return !(a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6Multicast || (v6[0] & 0xfe) == 0xfc);
    }
}
