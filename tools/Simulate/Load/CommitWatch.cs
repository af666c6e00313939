using System.Diagnostics;

namespace CohortSync.Simulate.Load;

/// <summary>
/// When a session's commit became visible to readers. The service commits inside the last page's request, but
/// that is its business: the load run believes the read API, polled every few milliseconds from the last
/// acknowledgement on.
/// </summary>
public static class CommitWatch
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>The timestamp of the first answer that showed <paramref name="session"/> as the cohort's latest session,
    /// committed, what that answer said (its member count is checked afterwards), and how many reads it took (1: the
    /// commit was done when the last page was acknowledged).</summary>
    public static async Task<(long VisibleAt, CohortState State, int Reads)> UntilCommittedAsync(
        LoadClient client, string project, string cohort, string session, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        CohortState? seen = null;
        for (var reads = 1; ; reads++)
        {
            seen = await client.CohortAsync(project, cohort, ct);
            var at = Stopwatch.GetTimestamp();
            if (seen is { } s && s.LastSessionId == session)
            {
                if (s.LastSessionState == "committed")
                    return (at, s, reads);
                if (s.LastSessionState == "superseded")
                    throw new LoadAbortedException($"session {session} was superseded instead of committing");
            }
            if (Stopwatch.GetElapsedTime(started, at) > timeout)
                throw new LoadAbortedException(
                    $"session {session} was not shown committed {timeout.TotalSeconds:0.#} s after its last page was acknowledged "
                    + $"(--timeout); the cohort read {(seen is null ? "404" : seen.ToString())}");
            await Task.Delay(PollInterval, ct);
        }
    }
}
