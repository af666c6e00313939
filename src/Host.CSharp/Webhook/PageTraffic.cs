using System.Diagnostics;

namespace CohortSync.Host.Webhook;

/// <summary>
/// The webhook's pages under way in this process. Mixpanel waits for each page's answer, and retries or fails
/// the sync when it comes late; work that can wait a moment, such as delivery to destinations, gives way to them.
/// </summary>
public sealed class PageTraffic
{
    int underWay;
    long lastAnswered;

    public Page Enter()
    {
        Interlocked.Increment(ref underWay);
        return new Page(this);
    }

    /// <summary>One page under way, until disposed.</summary>
    public readonly struct Page(PageTraffic traffic) : IDisposable
    {
        public void Dispose()
        {
            Volatile.Write(ref traffic.lastAnswered, Stopwatch.GetTimestamp());
            Interlocked.Decrement(ref traffic.underWay);
        }
    }

    /// <summary>Whether a page is under way, or one was answered within <paramref name="within"/>: more may follow.</summary>
    public bool Flowing(TimeSpan within) =>
        Volatile.Read(ref underWay) > 0 || Stopwatch.GetElapsedTime(Volatile.Read(ref lastAnswered)) < within;

    /// <summary>Waits while pages are under way, but at most <paramref name="limit"/>: what gives way is slowed, never stopped.</summary>
    public async ValueTask GiveWayAsync(TimeSpan limit, CancellationToken ct)
    {
        var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (Volatile.Read(ref underWay) > 0 && Stopwatch.GetTimestamp() < until)
            await Task.Delay(1, ct);
    }
}
