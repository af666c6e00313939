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
    internal static readonly TimeSpan GiveWay = TimeSpan.FromMilliseconds(50);

    static readonly TimeSpan MetricsInterval = TimeSpan.FromSeconds(2);
    const int ConsecutiveBatches = 100;

    readonly ConcurrentDictionary<Guid, bool> underWay = new();
    readonly List<Task> attempts = [];

    // A destination yielding its place needs the next pass now, not after the poll.
    readonly WakeUp wake = new();

    /// <summary>
    /// Forms the destination's batches step by step while <paramref name="goOn"/> says so of the last step (and
    /// there may be more), waking <paramref name="formed"/> after each, so that a delivery waiting for a batch
    /// starts as soon as one is formed.
    /// </summary>
    async Task FormAsync(Guid destinationId, Func<BatchForming.Step, bool> goOn, FormedSteps? formed, CancellationToken ct)
    {
        BatchForming.Step step;
        do
        {
            await pages.GiveWayAsync(GiveWay, ct);
            step = await forming.FormAsync(destinationId, ct);
            formed?.Set();
        }
        while (step.More && goOn(step));
    }

    /// <summary>
    /// Forming alongside a delivery, until it is caught up, has enough waiting, or the delivery has ended
    /// (<paramref name="ended"/>, looked at between steps). A failure is logged, and the next pass forms again.
    /// </summary>
    async Task FormAheadAsync(Guid destinationId, FormedSteps formed, CancellationToken ended, CancellationToken ct)
    {
        try
        {
            await FormAsync(destinationId, _ => !ended.IsCancellationRequested, formed, ct);
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
                // Until a destination has a batch to deliver: its delivery forms the rest, and a destination
                // under way forms its own.
                foreach (var id in await forming.BehindAsync(stoppingToken))
                    if (!underWay.ContainsKey(id))
                        await FormAsync(id, step => step.Batches == 0, null, stoppingToken);

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
        var formed = new FormedSteps();
        using var ended = new CancellationTokenSource();
        var yielded = false;
        try
        {
            await using var run = await delivery.BeginAsync(due.destination_id, ct);
            for (var (batches, formAhead) = (0, true); ;)
            {
                await pages.GiveWayAsync(GiveWay, ct);
                var step = formed.Next;
                var attempt = run.AttemptAsync(ct);
                if (formAhead && formingAhead.IsCompleted)
                    formingAhead = FormAheadAsync(due.destination_id, formed, ended.Token, ct);
                var outcome = await attempt;
                if (outcome == DeliveryRun.Outcome.NoneDue)
                {
                    // Nothing formed yet (the run has committed). A step of forming that ended since the claim
                    // looked may have formed one; else wait for the forming under way to form one, or to end.
                    formAhead = false;
                    if (step.IsCompleted)
                        continue;
                    if (formingAhead.IsCompleted)
                        break;
                    await Task.WhenAny(formingAhead, step);
                    continue;
                }
                if (outcome == DeliveryRun.Outcome.NotDelivered)
                    break;
                formAhead = true;
                // Another destination may be waiting for a place: this one yields it, and is taken up again at once.
                if (++batches == ConsecutiveBatches)
                {
                    yielded = true;
                    break;
                }
            }
            await run.CommitAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The answers not yet committed are rolled back: those batches stay due, and are attempted again in
            // order, with the same webhook-ids.
            logger.Log(DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error, e,
                "Delivery to destination {Destination} failed before its answers were stored", due.destination_id);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            // The destination is taken up again only once the step of forming under way has ended: a pass or
            // delivery forming meanwhile would find the destination locked and end at once, and a batch the step
            // then formed would wait for the poll.
            ended.Cancel();
            await formingAhead;
            underWay.TryRemove(due.destination_id, out _);
            if (yielded)
                wake.Set();
        }
    }
}

/// <summary>Each step of forming completes the task handed out before it: a delivery waiting for a batch never misses one.</summary>
sealed class FormedSteps
{
    TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref next).Task;

    public void Set() => Interlocked.Exchange(ref next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
