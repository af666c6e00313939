using System.Text.Json.Serialization;
using CohortSync.Host.Database;
using CohortSync.Host.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ReportStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace CohortSync.Host;

/// <summary>Liveness (the process answers) and readiness (the database answers and is migrated), apart.</summary>
public static class HealthEndpoints
{
    public const string Tag = "Operations";

    /// <summary>The tag of the checks <c>/readyz</c> runs (ASP.NET Core health checks, registered with the services).</summary>
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("alive")))
            .WithTags(Tag)
            .WithSummary("Liveness: the process answers")
            .WithDescription("Always 200 while the process serves; it does not touch the database.")
            // A client locked out for failed authentications is still probed: a probe's 429 would restart a healthy service.
            .DisableRateLimiting();
        // It also tells how each part is guarded, so that an opt-out of credentials shows.
        app.MapGet("/readyz", async Task<JsonHttpResult<HealthStatus>> (HttpContext http, HealthCheckService health, CancellationToken ct) =>
            {
                var access = AccessSummary.Of(http.RequestServices);
                var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), ct);
                var failed = report.Entries.Values.FirstOrDefault(e => e.Status != ReportStatus.Healthy);
                return report.Status == ReportStatus.Healthy
                    ? TypedResults.Json(new HealthStatus("ready", access))
                    : TypedResults.Json(new HealthStatus(failed.Description ?? "not ready", access), statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .WithTags(Tag)
            .WithSummary("Readiness: the database answers and every migration is applied")
            .WithDescription("200 `ready`; 503 `migrations pending` or `database unreachable`.")
            .Produces<HealthStatus>(StatusCodes.Status200OK)
            .Produces<HealthStatus>(StatusCodes.Status503ServiceUnavailable)
            .DisableRateLimiting();
        return app;
    }
}

/// <summary>The body of /healthz and /readyz; /readyz also says how each part of the service is guarded.</summary>
public sealed record HealthStatus(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AccessSummary? Access = null);
