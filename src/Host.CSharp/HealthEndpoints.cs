using CohortSync.Host.Database;
using CohortSync.Host.Webhook;

namespace CohortSync.Host;

/// <summary>Liveness (the process answers) and readiness (the database answers and is migrated), apart.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app, string connectionString)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }));
        // DbUp's own check reads the journal, and fails like any query when the database is unreachable.
        app.MapGet("/readyz", () =>
        {
            try
            {
                return Migrations.AreApplied(connectionString)
                    ? Results.Ok(new { status = "ready" })
                    : Results.Json(new { status = "migrations pending" }, statusCode: 503);
            }
            catch (Exception e) when (WebhookEndpoints.IsTransient(e))
            {
                return Results.Json(new { status = "database unreachable" }, statusCode: 503);
            }
        });
        return app;
    }
}
