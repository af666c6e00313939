using CohortSync.Domain;
using CohortSync.Mixpanel;
using static CohortSync.Mixpanel.Sender;
using static CohortSync.Mixpanel.SyncRun;

namespace CohortSync.Simulate;

/// <summary>
/// The world one cohort's syncs are played in: the real service over HTTP, the real clock (scaled),
/// and the cohort's own dice for network faults. Retries, backoff and what each fault does are the
/// model's (<see cref="Network"/>, <see cref="SyncRun.PlayAsync"/>); this only carries them out, and
/// remembers which pages the service acknowledged, in order, to explain a divergence afterwards.
/// </summary>
public sealed class HttpWorld(ServiceClient service, NetworkDice dice, double timeScale, RunTally tally, CancellationToken ct) : IWorld
{
    readonly Lock gate = new();
    readonly List<WebhookPage> acknowledged = [];
    readonly HashSet<(string Session, string Action, int Page)> acknowledgedKeys = [];

    public async Task<Answer> Post(WebhookPage page)
    {
        var answer = await service.PostPageAsync(page, ct);
        tally.Posted(page, answer);
        if (answer is Answer.Status { Code: >= 200 and < 300 })
            lock (gate)
            {
                acknowledged.Add(page);
                acknowledgedKeys.Add(Key(page));
            }
        return answer;
    }

    public Task Wait(TimeSpan delay) => SimulatedTime.DelayAsync(delay, timeScale, ct);

    public Fault NextFault() => dice.Next();

    /// <summary>Every copy the service answered 2xx, in the order of the answers (the pages are the
    /// sync's own: nothing is copied).</summary>
    public IReadOnlyList<WebhookPage> Acknowledged
    {
        get { lock (gate) return acknowledged.ToArray(); }
    }

    /// <summary>
    /// True when the service answered 2xx to some copy of every page of <paramref name="sync"/>, whatever
    /// the sender saw: a sync the sender gave up on (its answers lost) may still have committed.
    /// </summary>
    public bool AcknowledgedEveryPage(PlannedSync sync)
    {
        lock (gate)
            return sync.Pages.All(p => acknowledgedKeys.Contains(Key(p)));
    }

    static (string, string, int) Key(WebhookPage p) => (p.SessionId.Value, p.Action.WireName, p.PageInfo.PageCount);
}
