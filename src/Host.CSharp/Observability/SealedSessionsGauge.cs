using CohortSync.Host.Database;
using Dapper;
using Npgsql;
using Prometheus;

namespace CohortSync.Host.Observability;

/// <summary>
/// Sealed sessions waiting for a commit, read from the database at each scrape: every host shows the same
/// figures, whichever of them commits, and a committer that fell behind (or is off everywhere) shows as a
/// growing count and age.
/// </summary>
public sealed class SealedSessionsGauge
{
    // A scrape must answer even when the database does not: the gauges then keep their last values.
    static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(2);

    static readonly string Waiting = $"""
        SELECT count(*) AS waiting, COALESCE(EXTRACT(EPOCH FROM now() - min(sealed_at)), 0)::float8 AS oldest_seconds
        FROM sync_session WHERE state = '{StorageNames.Sealed}'
        """;

    sealed record Row(long waiting, double oldest_seconds);

    readonly NpgsqlDataSource dataSource;
    readonly ILogger<SealedSessionsGauge> logger;
    readonly Gauge waiting;
    readonly Gauge oldest;

    public SealedSessionsGauge(CollectorRegistry registry, NpgsqlDataSource dataSource, ILogger<SealedSessionsGauge> logger)
    {
        this.dataSource = dataSource;
        this.logger = logger;
        var factory = Metrics.WithCustomRegistry(registry);
        waiting = factory.CreateGauge("cohortsync_sessions_sealed_waiting",
            "Sessions sealed (every page in and acknowledged) and not yet committed, over all cohorts.");
        oldest = factory.CreateGauge("cohortsync_sessions_sealed_oldest_seconds",
            "Seconds since the oldest session still waiting to be committed was sealed (0 when none waits).");
        registry.AddBeforeCollectCallback(RefreshAsync);
    }

    async Task RefreshAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(Waiting, cancellationToken: timeout.Token));
            waiting.Set(row.waiting);
            oldest.Set(Math.Max(0, row.oldest_seconds));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            logger.LogDebug(e, "Sealed sessions not counted for this scrape; the gauges keep their last values");
        }
    }
}
