using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>
/// Lets PostgreSQL notice a host that died without closing its connections (a machine lost, a network
/// cut: a process that merely crashes has its sockets closed by the kernel). Until it notices, the dead
/// host's transaction keeps its locks: a cohort's row lock, the retention lock, or the feed lock that
/// every commit takes in turn (<c>Webhook/ReadSideCommit.cs</c>). Left to the operating system's
/// defaults, that is over two hours.
/// </summary>
static class DeadHostDetection
{
    /// <summary>
    /// The server's TCP keepalives on each of this host's connections: a probe after 30 s without traffic,
    /// then every 10 s, and the connection is dropped (its transaction rolled back, its locks released)
    /// after 3 unanswered, about a minute after the host fell silent. Server-side, set per connection as
    /// startup options: Npgsql's own keepalives (<c>Keepalive</c>, <c>Tcp Keepalive</c>) are the client
    /// probing the server, which cannot help the server notice a dead client. Probes only flow while the
    /// connection is silent, so a long statement is never cut short (PostgreSQL itself is then the one
    /// working), and a live host answers them from its kernel, however busy it is.
    /// </summary>
    const string ServerKeepalives = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3";

    /// <summary>The connection string with the server keepalives added (options already there come after, and win).</summary>
    public static string Apply(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        PrependServerOptions(builder, ServerKeepalives);
        return builder.ConnectionString;
    }

    /// <summary>Adds server settings (<c>-c name=value</c>) before those already given, which come after and win.</summary>
    internal static void PrependServerOptions(NpgsqlConnectionStringBuilder builder, string options) =>
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? options : $"{options} {builder.Options}";
}
