using Dapper;
using Npgsql;
using Prometheus;

namespace CohortSync.Host.Destinations;

/// <summary>Delivery metrics (<c>cohortsync_destination_*</c>): no per-destination series, only outcomes and totals.</summary>
public sealed class DestinationMetrics
{
    readonly Counter attempts;
    readonly Counter gaveUp;
    readonly Gauge backlog;
    readonly Gauge lag;
    readonly Gauge destinations;
    static readonly string[] States = ["active", "failing", "gone", "disabled"];

    public DestinationMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        attempts = factory.CreateCounter("cohortsync_destination_deliveries_total",
            "Delivery attempts to destinations, by outcome (delivered, gone, failed, timeout, unreachable, refused).", "outcome");
        gaveUp = factory.CreateCounter("cohortsync_destination_schedules_exhausted_total",
            "Batches whose retry schedule ran out, marking their destination failing.");
        backlog = factory.CreateGauge("cohortsync_destination_backlog_batches",
            "Batches formed and not yet delivered, over every enabled destination.");
        lag = factory.CreateGauge("cohortsync_destination_lag_seconds",
            "Seconds since the oldest undelivered change of any enabled destination was committed (0 when none waits).");
        destinations = factory.CreateGauge("cohortsync_destinations",
            "Destinations by state (active, failing, gone, disabled).", "state");
        foreach (var outcome in DeliveryAnswer.Outcomes)
            attempts.WithLabels(outcome);
        foreach (var state in States)
            destinations.WithLabels(state);
    }

    public void Attempted(string outcome) => attempts.WithLabels(outcome).Inc();

    public void GaveUp() => gaveUp.Inc();

    sealed record Totals(long pending, double lag_seconds);

    sealed record StateCount(string state, long count);

    /// <summary>Reads the backlog, the lag and the destinations' states from the database.</summary>
    public async Task RefreshAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var totals = await connection.QuerySingleAsync<Totals>(
            """
            SELECT count(*) AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(b.oldest_change_at)), 0)::float8 AS lag_seconds
            FROM delivery_batch b JOIN destination d ON d.destination_id = b.destination_id
            WHERE b.state = 'pending' AND d.enabled
            """);
        backlog.Set(totals.pending);
        lag.Set(Math.Max(0, totals.lag_seconds));
        var counts = (await connection.QueryAsync<StateCount>(
            "SELECT CASE WHEN enabled THEN state ELSE 'disabled' END AS state, count(*) AS count FROM destination GROUP BY 1"))
            .ToDictionary(r => r.state, r => r.count);
        foreach (var state in States)
            destinations.WithLabels(state).Set(counts.GetValueOrDefault(state));
    }
}
