using System.Diagnostics;

namespace CohortSync.Simulate.Load;

/// <summary>How one sync's pages went, in <see cref="Stopwatch"/> timestamps: the first request sent, the last
/// acknowledgement received, and each page's latency (sent to answer read), in page order.</summary>
public sealed record Push(long FirstSent, long LastAcknowledged, double[] LatenciesMs)
{
    public double Seconds => Stopwatch.GetElapsedTime(FirstSent, LastAcknowledged).TotalSeconds;
}

/// <summary>
/// Sends a rendered sync as Mixpanel does: pages in order, at most <c>inFlight</c> outstanding (1: one after
/// another), each started only once a slot is free. The first refused or unanswered page stops the sync.
/// </summary>
public static class LoadSender
{
    public static async Task<Push> PushAsync(LoadClient client, RenderedSync sync, int inFlight, Action onAcknowledged, CancellationToken ct)
    {
        var latencies = new double[sync.Pages];
        var next = -1;
        var lastAcknowledged = 0L;
        LoadAbortedException? failure = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        async Task Worker()
        {
            int page;
            while ((page = Interlocked.Increment(ref next)) < sync.Pages && !stop.IsCancellationRequested)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await client.PostPageAsync(sync.Bodies[page], sync.PageNames[page], stop.Token);
                }
                catch (LoadAbortedException e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                    await stop.CancelAsync();
                    return;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    // Another page failed: this one's answer no longer matters.
                    return;
                }
                var acknowledged = Stopwatch.GetTimestamp();
                latencies[page] = Stopwatch.GetElapsedTime(sent, acknowledged).TotalMilliseconds;
                // With several pages in flight the last page is not always the last one answered.
                long seen;
                while (acknowledged > (seen = Interlocked.Read(ref lastAcknowledged)))
                    if (Interlocked.CompareExchange(ref lastAcknowledged, acknowledged, seen) == seen)
                        break;
                onAcknowledged();
            }
        }

        var firstSent = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(inFlight, sync.Pages)).Select(_ => Worker()));
        if (failure is not null)
            throw failure;
        ct.ThrowIfCancellationRequested();
        return new Push(firstSent, lastAcknowledged, latencies);
    }
}
