using CohortSync.Host.Database;
using Npgsql;

namespace CohortSync.Host;

/// <summary>Liveness (the process answers) and readiness (the database answers and is migrated), apart.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app, string connectionString)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }));
        app.MapGet("/readyz", async (NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                return Migrations.AreApplied(connectionString)
                    ? Results.Ok(new { status = "ready" })
                    : Results.Json(new { status = "migrations pending" }, statusCode: 503);
            }
            catch (NpgsqlException)
            {
                return Results.Json(new { status = "database unreachable" }, statusCode: 503);
            }
        });
        return app;
    }
}
