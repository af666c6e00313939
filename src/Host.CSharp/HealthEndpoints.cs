using System.Text.Json.Serialization;
using CohortSync.Host.Database;
using CohortSync.Host.Security;
using CohortSync.Host.Webhook;

namespace CohortSync.Host;

/// <summary>Liveness (the process answers) and readiness (the database answers and is migrated), apart.</summary>
public static class HealthEndpoints
{
    public const string Tag = "Operations";

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app, string connectionString)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("alive")))
            .WithTags(Tag)
            .WithSummary("Liveness: the process answers")
            .WithDescription("Always 200 while the process serves; it does not touch the database.")
            // A client locked out for failed authentications is still probed: a probe's 429 would restart a healthy service.
            .DisableRateLimiting();
        // DbUp's own check reads the journal, and fails like any query when the database is unreachable.
        // It also tells how each part is guarded, so that an opt-out of credentials shows.
        app.MapGet("/readyz", (HttpContext http) =>
            {
                var access = AccessSummary.Of(http.RequestServices);
                try
                {
                    return Migrations.AreApplied(connectionString)
                        ? Results.Ok(new HealthStatus("ready", access))
                        : Results.Json(new HealthStatus("migrations pending", access), statusCode: 503);
                }
                catch (Exception e) when (WebhookEndpoints.IsTransient(e))
                {
                    return Results.Json(new HealthStatus("database unreachable", access), statusCode: 503);
                }
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
