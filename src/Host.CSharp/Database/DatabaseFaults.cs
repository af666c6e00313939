using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>Which database faults a retry can get past, for every part of the service that answers or logs them.</summary>
public static class DatabaseFaults
{
    /// <summary>The server unreachable, overloaded, restarting, or a lost race.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        // 25P03: the session sat idle holding the feed lock and PostgreSQL ended it (ReadSideCommit).
        PostgresException pg => pg.IsTransient || pg.SqlState[..2] is "08" or "53" or "57" or "40"
                                || pg.SqlState == "25P03",
        NpgsqlException => true,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };
}
