using System.Data.Common;
using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>
/// A page runs the same handful of statements every time: prepared once per pooled connection (Npgsql's
/// automatic preparation), they are not parsed again on each page (measured: a page's own statements went
/// from 1.9 to 1.1 ms, staging from 5.5 to 4.3 ms). Each execution is still planned for its own parameters
/// (<c>plan_cache_mode=force_custom_plan</c>): PostgreSQL would otherwise switch a statement run often to
/// one generic plan, chosen once, whatever the sizes of the cohorts and pages that follow.
/// </summary>
public static class AutoPrepare
{
    const string CustomPlans = "-c plan_cache_mode=force_custom_plan";

    /// <summary>The connection string with automatic preparation on, unless it says otherwise: a connection
    /// string that sets <c>Max Auto Prepare</c> (0 turns it off, as a pooler in transaction mode before
    /// PgBouncer 1.21 needs) is left as it is.</summary>
    public static string Apply(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.Keys.Cast<string>().Any(k => k.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            return connectionString;
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 32 };
        DeadHostDetection.PrependServerOptions(builder, CustomPlans);
        return builder.ConnectionString;
    }
}
