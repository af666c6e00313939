using System.Reflection;
using DbUp;
using DbUp.Builder;
using DbUp.Engine.Output;
using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>Applies the numbered scripts of the root <c>db/</c> folder (embedded as <c>db.*.sql</c>).</summary>
public static class Migrations
{
    // Any constant: several hosts starting together take turns, so a script never runs twice.
    const long AdvisoryLockKey = 0x436f686f72745379;

    public static async Task ApplyAsync(string connectionString, ILogger logger, CancellationToken ct = default)
    {
        // Unpooled, so the lock also ends if this process dies; and released explicitly, because a
        // pooled connection would keep a session lock until the pool reused or pruned it.
        await using var guard = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await guard.OpenAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", guard))
            await lockCommand.ExecuteNonQueryAsync(ct);
        try
        {
            Upgrade(connectionString, logger);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({AdvisoryLockKey})", guard);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    static void Upgrade(string connectionString, ILogger logger)
    {
        var result = Scripts(connectionString).WithTransactionPerScript().LogTo(new UpgradeLog(logger)).Build().PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed", result.Error);
        foreach (var script in result.Scripts)
            logger.LogInformation("Applied migration {Script}", script.Name);
    }

    /// <summary>True when every embedded script has been applied.</summary>
    public static bool AreApplied(string connectionString) =>
        !Scripts(connectionString).LogToNowhere().Build().IsUpgradeRequired();

    static UpgradeEngineBuilder Scripts(string connectionString) =>
        DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.StartsWith("db.", StringComparison.Ordinal));

    sealed class UpgradeLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);
        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogInformation(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);
        public void LogError(string format, params object[] args) => logger.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
}
