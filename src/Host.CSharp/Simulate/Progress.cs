using System.Diagnostics;
using System.Globalization;

namespace CohortSync.Host.Simulate;

/// <summary>A line every few seconds on a long run: syncs done, pages the service stored, members per second.</summary>
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
                var members = tally.MembersStored;
                var rate = (members - lastMembers) / Math.Max((now - lastTime).TotalSeconds, 1e-3);
                (lastTime, lastMembers) = (now, members);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"simulate: {now.TotalSeconds,6:F1} s  syncs {tally.SyncsDone}/{plannedSyncs} "
                    + $"({tally.SyncsSucceeded} succeeded, {tally.SyncsFailed} failed, {tally.SyncsPaused} paused)  "
                    + $"pages stored {tally.PagesStored:N0}  deliveries {tally.Deliveries:N0}  {rate:N0} members/s"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
