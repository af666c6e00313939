using DbUp;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>A database migrated up to, not including, one of db/'s scripts: what a deployment held before it.</summary>
public static class MigratedBefore
{
    /// <param name="database">The connection string of a database with none of the scripts run.</param>
    /// <param name="script">The first script not run, as its number: "0005" for db/0005_*.sql.</param>
    public static void Script(string database, string script)
    {
        var upgrade = DeployChanges.To.PostgresqlDatabase(database)
            .WithScriptsEmbeddedInAssembly(typeof(CohortSyncApp).Assembly,
                name => name.StartsWith("db.", StringComparison.Ordinal) && string.CompareOrdinal(name, $"db.{script}") < 0)
            .LogToNowhere().Build().PerformUpgrade();
        Assert.True(upgrade.Successful, upgrade.Error?.Message);
    }
}
