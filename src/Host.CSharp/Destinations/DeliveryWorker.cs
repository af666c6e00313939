using System.Collections.Concurrent;
using CohortSync.Host.Database;
using CohortSync.Host.Webhook;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Forms batches from the committed feed and delivers them, every <c>Destinations:PollMilliseconds</c>.
/// Each delivery runs on its own connection and task, at most one per destination and at most
/// <c>Destinations:MaxConcurrentDeliveries</c> at once, so a slow destination holds up no other, and the
/// webhook, which never waits on this worker, none at all.
/// </summary>
public sealed class DeliveryWorker(
    BatchForming forming, BatchDelivery delivery, DestinationMetrics metrics, NpgsqlDataSource dataSource, PageTraffic pages,
    IOptions<DestinationOptions> options, ILogger<DeliveryWorker> logger) : BackgroundService
{
    /// <summary>
    /// Each step of forming or delivering waits for the webhook's pages under way to be answered, up to this long:
    /// on a small machine a step run beside a page makes its answer late (docs/performance.md measures both ways).
    /// </summary>
    static readonly TimeSpan GiveWay = TimeSpan.FromMilliseconds(50);

    static readonly TimeSpan MetricsInterval = TimeSpan.FromSeconds(2);
    const int ConsecutiveBatches = 100;

    readonly ConcurrentDictionary<Guid, bool> underWay = new();
    readonly List<Task> attempts = [];

    // A destination yielding its place needs the next pass now, not after the poll.
    readonly WakeUp wake = new();

    /// <summary>Forms the destination's batches until it is caught up or has enough waiting.</summary>
    async Task FormAllAsync(Guid destinationId, CancellationToken ct)
    {
        do
        {
            await pages.GiveWayAsync(GiveWay, ct);
        }
        while (await forming.FormAsync(destinationId, ct));
    }

    /// <summary>Forming alongside a delivery: a failure is logged, and the next pass forms again.</summary>
    async Task FormAheadAsync(Guid destinationId, CancellationToken ct)
    {
        try
        {
            await FormAllAsync(destinationId, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.Log(DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error, e,
                "Forming batches for destination {Destination} failed; the next pass forms them", destinationId);
        }
        catch (OperationCanceledException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.DeliveryEnabled)
        {
            logger.LogInformation("Delivery to destinations is off in this process (Destinations:DeliveryEnabled)");
            return;
        }

        var metricsDue = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var id in await forming.BehindAsync(stoppingToken))
                    await FormAllAsync(id, stoppingToken);

                var free = o.MaxConcurrentDeliveries - underWay.Count;
                if (free > 0)
                    foreach (var due in await delivery.DueAsync(free + underWay.Count, stoppingToken))
                        if (underWay.Count < o.MaxConcurrentDeliveries && underWay.TryAdd(due.destination_id, true))
                            attempts.Add(AttemptAsync(due, stoppingToken));
                attempts.RemoveAll(t => t.IsCompleted);

                if (DateTime.UtcNow >= metricsDue)
                {
                    await metrics.RefreshAsync(dataSource, stoppingToken);
                    metricsDue = DateTime.UtcNow + MetricsInterval;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.Log(DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error, e, "Delivery pass failed; trying again");
            }

            try
            {
                await wake.WaitAsync(TimeSpan.FromMilliseconds(o.PollMilliseconds), stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await Task.WhenAll(attempts);
    }

    /// <summary>
    /// Delivers the destination's batches one after another while they succeed, up to a limit so that it yields
    /// its place. The next batches are formed while one is under way, so that a destination catching up is paced
    /// neither by the poll nor by forming.
    /// </summary>
    async Task AttemptAsync(BatchDelivery.Due due, CancellationToken ct)
    {
        await Task.Yield();
        var formingAhead = Task.CompletedTask;
        var yielded = false;
        try
        {
            for (var run = 1; ; run++)
            {
                await pages.GiveWayAsync(GiveWay, ct);
                var attempt = delivery.AttemptAsync(due, ct);
                if (formingAhead.IsCompleted)
                    formingAhead = FormAheadAsync(due.destination_id, ct);
                if (!await attempt)
                    break;
                if (await delivery.NextDueAsync(due.destination_id, ct) is not { } next)
                {
                    // Nothing formed yet: wait for the forming under way, then look again.
                    await formingAhead;
                    if (await delivery.NextDueAsync(due.destination_id, ct) is not { } formed)
                        break;
                    next = formed;
                }
                // Another destination may be waiting for a place: this one yields it, and is taken up again at once.
                if (run == ConsecutiveBatches)
                {
                    yielded = true;
                    break;
                }
                due = next;
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The attempt is not recorded: the batch stays due and is attempted again, with the same webhook-id.
            logger.Log(DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error, e,
                "Delivery to destination {Destination} failed before its answer was stored", due.destination_id);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await formingAhead;
            underWay.TryRemove(due.destination_id, out _);
            if (yielded)
                wake.Set();
        }
    }
}
