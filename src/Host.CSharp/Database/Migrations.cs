using System.Reflection;
using DbUp;
using DbUp.Builder;
using DbUp.Engine.Output;
using DbUp.Postgresql;
using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>Applies the numbered scripts of the root <c>db/</c> folder (embedded as <c>db.*.sql</c>).</summary>
public static class Migrations
{
    // Any constant: several hosts starting together take turns, so a script never runs twice.
    const long AdvisoryLockKey = 0x436f686f72745379;

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken ct = default)
    {
        // A transaction's lock: it ends with the transaction, or with the connection if this process dies,
        // and so never stays behind in a pooled connection. The scripts run on connections of their own.
        await using var guard = await dataSource.OpenConnectionAsync(ct);
        await using var hold = await guard.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", guard, hold))
            await lockCommand.ExecuteNonQueryAsync(ct);
        Upgrade(dataSource, logger);
        await hold.CommitAsync(CancellationToken.None);
    }

    static void Upgrade(NpgsqlDataSource dataSource, ILogger logger)
    {
        var result = Scripts(dataSource).WithTransactionPerScript().LogTo(new UpgradeLog(logger)).Build().PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed", result.Error);
        foreach (var script in result.Scripts)
            logger.LogInformation("Applied migration {Script}", script.Name);
    }

    /// <summary>True when every embedded script has been applied.</summary>
    public static bool AreApplied(NpgsqlDataSource dataSource) =>
        !Scripts(dataSource).LogToNowhere().Build().IsUpgradeRequired();

    static UpgradeEngineBuilder Scripts(NpgsqlDataSource dataSource) =>
        DeployChanges.To
            .PostgresqlDatabase(new PostgresqlConnectionManager(dataSource))
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
