using CohortSync.Domain;
using static CohortSync.Domain.Sender;
using static CohortSync.Domain.SyncRun;

namespace CohortSync.Host.Simulate;

/// <summary>
/// The world one cohort's syncs are played in: the real service over HTTP, the real clock (scaled),
/// and the cohort's own dice for network faults. Retries, backoff and what each fault does are the
/// model's (<see cref="Network"/>, <see cref="SyncRun.PlayAsync"/>); this only carries them out.
/// </summary>
public sealed class HttpWorld(ServiceClient service, NetworkDice dice, double timeScale, RunTally tally, CancellationToken ct) : IWorld
{
    readonly HashSet<(string Session, string Action, int Page)> acknowledged = [];

    public async Task<Answer> Post(WebhookPage page)
    {
        var answer = await service.PostPageAsync(page, ct);
        tally.Delivered(page, answer);
        if (answer is Answer.Status { Item: >= 200 and < 300 })
            lock (acknowledged)
                acknowledged.Add((page.SessionId.Value, page.Action.WireName, page.PageInfo.PageCount));
        return answer;
    }

    public Task Wait(TimeSpan delay) => SimulatedTime.DelayAsync(delay, timeScale, ct);

    public Fault NextFault() => dice.Next();

    /// <summary>
    /// True when the receiver answered 2xx to some copy of every page of <paramref name="sync"/>, whatever
    /// the sender saw: a sync the sender gave up on (its answers lost) may still have committed.
    /// </summary>
    public bool AcknowledgedEveryPage(PlannedSync sync)
    {
        lock (acknowledged)
            return sync.Pages.All(p => acknowledged.Contains((p.SessionId.Value, p.Action.WireName, p.PageInfo.PageCount)));
    }
}
