using System.Reflection;
using DbUp;
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
        await using var guard = new NpgsqlConnection(connectionString);
        await guard.OpenAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", guard))
            await lockCommand.ExecuteNonQueryAsync(ct);

        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.StartsWith("db.", StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogTo(new UpgradeLog(logger))
            .Build();

        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed", result.Error);
        foreach (var script in result.Scripts)
            logger.LogInformation("Applied migration {Script}", script.Name);
    }

    /// <summary>True when every embedded script has been applied.</summary>
    public static bool AreApplied(string connectionString) =>
        !DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.StartsWith("db.", StringComparison.Ordinal))
            .LogToNowhere()
            .Build()
            .IsUpgradeRequired();

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
