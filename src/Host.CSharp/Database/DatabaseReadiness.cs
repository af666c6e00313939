using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>
/// Ready when the database answers and every migration in <c>db/</c> is applied. DbUp's own check reads
/// its journal, so it fails like any query when the database is unreachable; a connection check alone
/// would call a half-migrated database ready.
/// </summary>
public sealed class DatabaseReadiness(NpgsqlDataSource dataSource) : IHealthCheck
{
    public const string Name = "database";
    public const string MigrationsPending = "migrations pending";
    public const string Unreachable = "database unreachable";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(Migrations.AreApplied(dataSource)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy(MigrationsPending));
        }
        catch (Exception e) when (DatabaseFaults.IsTransient(e))
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(Unreachable));
        }
    }
}
