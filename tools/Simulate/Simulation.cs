using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Mixpanel;
using CohortSync.Simulate.Sink;
using static CohortSync.Mixpanel.Sender;
using static CohortSync.Mixpanel.SyncRun;

namespace CohortSync.Simulate;

/// <summary>Everything a simulation produced: the summary, and each cohort's expected state (to check again).</summary>
public sealed record SimulationRun(SimulationSummary Summary, IReadOnlyList<CohortOutcome> Cohorts);

/// <summary>
/// Plays Mixpanel against a live service: every cohort on its own 30-minute schedule (scaled), its own
/// sender memory and its own network, at most <see cref="SimulateOptions.Concurrency"/> syncs at once;
/// then reads every cohort back and compares it with the sender's last successful snapshot.
/// </summary>
public static class Simulation
{
    public static async Task<SimulationRun> RunAsync(SimulateOptions options, TextWriter progress, CancellationToken ct = default)
    {
        using var service = new ServiceClient(options);
        var tally = new RunTally();
        // Session ids differ from every earlier run's, even with the same seed: the service answers a page
        // of an already committed session "already done", so a re-run must not reuse them.
        var runNonce = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString("x");
        var sessionPrefix = $"sim-{options.Seed}-{runNonce}";
        // The destination exists before the first sync: it is sent what is committed after it was created.
        await using var sink = options.Sink ? await SinkRun.StartAsync(options, ct) : null;
        await using var mixpanel = sink is not null && options.SinkMixpanelPort is { } port ? await MixpanelSink.StartAsync(options, port, ct) : null;
        var clock = Stopwatch.StartNew();
        var sourceBuild = new SourceBuildTimes();

        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progressLoop = options.Quiet
            ? Task.CompletedTask
            : Progress.RunAsync(tally, (long)options.Cohorts * options.Syncs, options.ProgressInterval, progress, stopProgress.Token);

        var cohorts = new CohortPlayer(options, service, tally, sessionPrefix, sourceBuild, ct);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Cohorts).Select(i => Task.Run(() => cohorts.PlayAsync(i), ct)));
        var syncTime = clock.Elapsed;
        await stopProgress.CancelAsync();
        await progressLoop;

        var checkClock = Stopwatch.StartNew();
        var check = await ConvergenceCheck.CheckAsync(service, outcomes, ct);
        var checkTime = checkClock.Elapsed;
        var delivery = sink is null ? null : await sink.VerifyAsync(mixpanel is null ? null : mixpanel.HeldAsync, ct);
        if (delivery is not null && mixpanel is not null)
            delivery = delivery with { Mixpanel = mixpanel.Summary };
        var summary = SimulationSummary.From(options, sessionPrefix, tally, syncTime, sourceBuild.Longest, checkTime, check, delivery);
        return new SimulationRun(summary, outcomes);
    }

    /// <summary>The longest time one cohort took to be built at the source (the model's Map at a million members).</summary>
    sealed class SourceBuildTimes
    {
        long longestTicks;

        public TimeSpan Longest => TimeSpan.FromTicks(Interlocked.Read(ref longestTicks));

        public void Add(TimeSpan took)
        {
            long seen;
            while (took.Ticks > (seen = Interlocked.Read(ref longestTicks)))
                if (Interlocked.CompareExchange(ref longestTicks, took.Ticks, seen) == seen)
                    break;
        }
    }

    sealed class CohortPlayer(
        SimulateOptions options, ServiceClient service, RunTally tally, string sessionPrefix, SourceBuildTimes sourceBuild, CancellationToken ct)
    {
        readonly SemaphoreSlim syncSlots = new(options.Concurrency);
        readonly long startedAt = Stopwatch.GetTimestamp();
        readonly DateTimeOffset virtualStart = DateTimeOffset.UtcNow;
        readonly Settings settings = options.SenderSettings;

        public async Task<CohortOutcome> PlayAsync(int index)
        {
            var building = Stopwatch.StartNew();
            var cohort = new SimulatedCohort(options, index);
            sourceBuild.Add(building.Elapsed);

            var dice = new NetworkDice(options.FaultRate, options.DuplicateRate,
                new Random(SimulationSeeds.For(options.Seed, index, SimulationSeeds.Stream.Faults)));
            var world = new HttpWorld(service, dice, options.TimeScale, tally, ct);
            var network = new Network(world);
            var sender = CohortSender.Start($"{sessionPrefix}-{index + 1}-");
            var givenUpButDelivered = new List<string>();
            bool? existedBefore = null;
            var played = 0;
            var succeeded = 0;

            for (var n = 0; n < options.Syncs; n++)
            {
                if (n > 0)
                    cohort.Evolve();
                await UntilScheduledAsync(n);

                Played result;
                await syncSlots.WaitAsync(ct);
                try
                {
                    // Read in a sync slot, so that many cohorts do not all ask at once.
                    if (n == 0)
                        existedBefore = await service.CohortExistsAsync(cohort.Source.ProjectId, cohort.CohortId, ct);
                    // The sender's clock is Mixpanel's: sync n runs n × 30 minutes after the first, whatever the scale.
                    var now = virtualStart + n * settings.SyncInterval;
                    result = await SyncRun.NextSyncAsync(settings, network, options.InFlight, now, sender, cohort.Source);
                }
                finally
                {
                    syncSlots.Release();
                }

                played++;
                if (result.Report.Outcome.IsSucceeded)
                    succeeded++;
                sender = result.Sender;
                tally.Add(result.Report);
                // The network delivered what it held up when the sync ended, so this is final.
                if (result.Report.Outcome.IsFailed && world.AcknowledgedEveryPage(result.Report.Sync))
                    givenUpButDelivered.Add($"sync {played} ({result.Report.Sync.SessionId.Value})");

                if (sender.IsPaused)
                {
                    tally.Skipped(options.Syncs - n - 1);
                    break;
                }
            }

            return new CohortOutcome(
                cohort.Source.ProjectId, cohort.CohortId, existedBefore, played, succeeded, sender.IsPaused, sender.LastSuccessfulMembers, givenUpButDelivered,
                world.Acknowledged);
        }

        /// <summary>Sync n starts n × 30 minutes (scaled) after the run, or at once if the cohort is late.</summary>
        Task UntilScheduledAsync(int n)
        {
            var due = SimulatedTime.Scale(n * settings.SyncInterval, options.TimeScale) - Stopwatch.GetElapsedTime(startedAt);
            return due > TimeSpan.Zero ? Task.Delay(due, ct) : Task.CompletedTask;
        }
    }
}
