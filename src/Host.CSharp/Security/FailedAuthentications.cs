using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using CohortSync.Host.Observability;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// Makes guessing expensive: failed authentications are counted per client address in a fixed window,
/// and once an address has used up <see cref="SecurityOptions.FailedAuthLimit"/>, every request of
/// it gets 429 with <c>Retry-After</c> until the window ends, the right credentials included. Requests
/// that authenticate are never counted, so a sender with valid credentials is not limited by volume.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    readonly PartitionedRateLimiter<HttpContext> failures;
    readonly ServiceMetrics metrics;

    public FailedAuthentications(IOptions<SecurityOptions> options, ServiceMetrics metrics)
    {
        var settings = options.Value;
        this.metrics = metrics;
        failures = PartitionedRateLimiter.Create<HttpContext, string>(http => RateLimitPartition.GetFixedWindowLimiter(
            ClientOf(http),
            _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = settings.FailedAuthLimit,
                Window = TimeSpan.FromSeconds(settings.FailedAuthWindowSeconds),
                QueueLimit = 0,
            }));
        Gate = new FailureGate(failures);
    }

    /// <summary>
    /// The rate limiter middleware's limiter: it takes nothing, it only looks whether the client has
    /// failures left in this window.
    /// </summary>
    public PartitionedRateLimiter<HttpContext> Gate { get; }

    /// <summary>A request was refused for missing or wrong credentials: counts against its address.</summary>
    public void Record(HttpContext http, string reason)
    {
        metrics.AccessRefused(reason);
        failures.AttemptAcquire(http).Dispose();
    }

    /// <summary>Answers a request of an address that has no failures left.</summary>
    public static async ValueTask RefuseAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        http.RequestServices.GetRequiredService<ServiceMetrics>().AccessRefused(AccessRefusal.TooManyFailures);
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
        const string message = "too many failed authentications from this address: retry after the time in Retry-After";
        if (http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == Webhook.WebhookEndpoints.EndpointName)
            await Webhook.WebhookEndpoints.RefuseEarlyAsync(http, message, ct);
        else
            await http.Response.WriteAsJsonAsync(new Api.ProblemBody(message), ct);
    }

    /// <summary>An IPv4 address, or an IPv6 /64: one host usually holds a whole /64.</summary>
    static string ClientOf(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
            return "";
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => failures.Dispose();

    sealed class FailureGate(PartitionedRateLimiter<HttpContext> failures) : PartitionedRateLimiter<HttpContext>
    {
        public override RateLimiterStatistics? GetStatistics(HttpContext resource) => failures.GetStatistics(resource);

        protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
            failures.AttemptAcquire(resource, 0);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken ct) =>
            ValueTask.FromResult(failures.AttemptAcquire(resource, 0));
    }
}
