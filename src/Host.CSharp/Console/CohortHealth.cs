namespace CohortSync.Host.OperatorConsole;

/// <summary>How a cohort's sync looks from the receiving side, worst first.</summary>
public enum Health
{
    /// <summary>A 4xx answer came after its last accepted page: Mixpanel pauses a cohort's sync on those.</summary>
    Pausing,

    /// <summary>Nothing committed for over 2.5 days: Mixpanel's snapshot expires at 3, and a full copy follows.</summary>
    FullCopyAhead,

    /// <summary>No commit for more than two of Mixpanel's 30-minute cycles.</summary>
    Late,

    /// <summary>Pages arrived, nothing has committed yet, and it is not late.</summary>
    Waiting,

    Healthy,
}

public static class CohortHealth
{
    public static readonly TimeSpan Cycle = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan LateAfter = 2 * Cycle;
    public static readonly TimeSpan FullCopyAfter = TimeSpan.FromDays(2.5);

    /// <param name="now">The time to judge ages at.</param>
    /// <param name="lastCommittedAt">The cohort's last commit, if any.</param>
    /// <param name="firstSeenAt">When the cohort's oldest known session opened (counts as "last success" before any commit).</param>
    /// <param name="lastAcceptedAt">The latest page accepted, or commit.</param>
    /// <param name="lastClientErrorAt">The latest 400, 401, 403 or 404 answer naming the cohort.</param>
    public static Health Of(DateTime now, DateTime? lastCommittedAt, DateTime? firstSeenAt, DateTime? lastAcceptedAt, DateTime? lastClientErrorAt)
    {
        if (lastClientErrorAt is { } error && (lastAcceptedAt is not { } accepted || error > accepted))
            return Health.Pausing;
        var since = lastCommittedAt ?? firstSeenAt;
        if (since is { } s && now - s > FullCopyAfter)
            return Health.FullCopyAhead;
        if (lastCommittedAt is null)
            return since is { } first && now - first > LateAfter ? Health.Late : Health.Waiting;
        return now - lastCommittedAt.Value > LateAfter ? Health.Late : Health.Healthy;
    }

    public static string Name(Health health) => health switch
    {
        Health.Pausing => "pausing",
        Health.FullCopyAhead => "full copy ahead",
        Health.Late => "late",
        Health.Waiting => "waiting",
        _ => "healthy",
    };

    static string Symbol(Health health) => health switch
    {
        Health.Pausing => "‖",
        Health.FullCopyAhead => "⚠",
        Health.Late => "◷",
        Health.Waiting => "…",
        _ => "✓",
    };

    static string Hint(Health health) => health switch
    {
        Health.Pausing => "a 400/401/403/404 answer came after the last accepted page: Mixpanel pauses the sync on those",
        Health.FullCopyAhead => "nothing committed for over 2.5 days: Mixpanel's snapshot expires at 3 days and it will send a full copy",
        Health.Late => "no commit for more than two 30-minute cycles",
        Health.Waiting => "pages arrived, no session has committed yet",
        _ => "committed within the last two 30-minute cycles",
    };

    public static string Badge(Health health) =>
        $"""<span class="badge health-{Name(health).Replace(' ', '-')}" title="{Html.Attr(Hint(health))}"><span aria-hidden="true">{Symbol(health)}</span> {Name(health)}</span>""";
}
