using CohortSync.Host.Database;
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
            .WithDescription("Always 200 while the process serves; it does not touch the database.");
        // DbUp's own check reads the journal, and fails like any query when the database is unreachable.
        app.MapGet("/readyz", () =>
            {
                try
                {
                    return Migrations.AreApplied(connectionString)
                        ? Results.Ok(new HealthStatus("ready"))
                        : Results.Json(new HealthStatus("migrations pending"), statusCode: 503);
                }
                catch (Exception e) when (WebhookEndpoints.IsTransient(e))
                {
                    return Results.Json(new HealthStatus("database unreachable"), statusCode: 503);
                }
            })
            .WithTags(Tag)
            .WithSummary("Readiness: the database answers and every migration is applied")
            .WithDescription("200 `ready`; 503 `migrations pending` or `database unreachable`.")
            .Produces<HealthStatus>(StatusCodes.Status200OK)
            .Produces<HealthStatus>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}

/// <summary>The body of /healthz and /readyz.</summary>
public sealed record HealthStatus(string Status);
