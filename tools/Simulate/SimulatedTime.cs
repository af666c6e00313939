namespace CohortSync.Simulate;

/// <summary>
/// Mixpanel's waits (30 minutes between syncs, seconds of backoff) compressed by the time scale: the
/// sender's settings stay the documented ones, only the real time spent waiting shrinks.
/// </summary>
public static class SimulatedTime
{
    public static TimeSpan Scale(TimeSpan span, double timeScale) =>
        TimeSpan.FromTicks((long)Math.Round(span.Ticks * timeScale));

    public static Task DelayAsync(TimeSpan span, double timeScale, CancellationToken ct)
    {
        var scaled = Scale(span, timeScale);
        return scaled <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(scaled, ct);
    }
}
