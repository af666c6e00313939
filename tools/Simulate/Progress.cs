using System.Diagnostics;
using System.Globalization;

namespace CohortSync.Simulate;

/// <summary>A line every few seconds on a long run: syncs done, copies the service answered (and answered 2xx), and
/// members per second in those 2xx copies. Copies, not pages: duplicates, late copies and retries count too.</summary>
public static class Progress
{
    public static async Task RunAsync(RunTally tally, long plannedSyncs, TimeSpan interval, TextWriter output, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var lastTime = TimeSpan.Zero;
        var lastMembers = 0L;
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = clock.Elapsed;
                var members = tally.MembersAcknowledged;
                var rate = (members - lastMembers) / Math.Max((now - lastTime).TotalSeconds, 1e-3);
                (lastTime, lastMembers) = (now, members);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"simulate: {now.TotalSeconds,6:F1} s  syncs {tally.SyncsDone}/{plannedSyncs} "
                    + $"({tally.SyncsSucceeded} succeeded, {tally.SyncsFailed} failed, {tally.SyncsPaused} paused)  "
                    + $"copies answered {tally.Deliveries:N0} ({tally.CopiesAcknowledged:N0} 2xx)  {rate:N0} members/s in 2xx copies"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
