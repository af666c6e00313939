using System.Diagnostics;

namespace CohortSync.Host.Observability;

/// <summary>
/// Times every HTTP request by method, endpoint and status. The endpoint is the matched route's pattern
/// (<c>/v1/cohorts/{projectId}/{cohortId}/members</c>), never the path a caller sent, and unknown methods
/// are one value, so no caller can grow the number of series.
/// </summary>
public sealed class RequestMetrics(RequestDelegate next, ServiceMetrics metrics)
{
    static readonly HashSet<string> KnownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            // An exception escaping here becomes a 500 further out; a sender that went away, a 499.
            var status = context.RequestAborted.IsCancellationRequested ? 499 : failed ? 500 : context.Response.StatusCode;
            var endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
            var method = KnownMethods.Contains(context.Request.Method) ? context.Request.Method : "OTHER";
            metrics.RequestServed(method, endpoint, status, Stopwatch.GetElapsedTime(started));
        }
    }
}
