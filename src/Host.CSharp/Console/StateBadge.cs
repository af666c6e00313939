using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// A session's state as a badge. The states are the domain's (<see cref="SessionStatus.Names"/>): a
/// state the table below does not describe yet still shows, by its name in a neutral badge, and a test
/// lists the names missing here, so adding a state to the domain means adding one line.
/// </summary>
static class StateBadge
{
    sealed record Look(string Symbol, string Hint);

    static readonly Dictionary<string, Look> Looks = new()
    {
        [SessionStatus.Open.ToString()] = new("◔", "pages are still arriving"),
        [SessionStatus.Sealed.ToString()] = new("◕", "every page arrived and was acknowledged; membership is being updated"),
        [SessionStatus.Committed.ToString()] = new("✓", "every page arrived; membership was updated"),
        [SessionStatus.Superseded.ToString()] = new("↷", "replaced by a newer session before it committed"),
    };

    /// <summary>The domain's states this badge has no look for.</summary>
    public static IEnumerable<string> Undescribed => SessionStatus.Names.Where(n => !Looks.ContainsKey(n));

    public static bool Described(string state) => Looks.ContainsKey(state);

    /// <summary>The state's symbol, which says it without colour.</summary>
    public static string Symbol(string state) => Looks.TryGetValue(state, out var look) ? look.Symbol : "•";

    public static string For(string state)
    {
        var css = Looks.ContainsKey(state) ? "state-" + state : "state-other";
        var look = Looks.GetValueOrDefault(state, new Look("•", "session state " + state));
        return $"""<span class="badge {Html.Attr(css)}" title="{Html.Attr(look.Hint)}"><span aria-hidden="true">{look.Symbol}</span> {Html.Text(state)}</span>""";
    }
}
