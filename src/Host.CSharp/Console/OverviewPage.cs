using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Cohorts;

namespace CohortSync.Host.OperatorConsole;

/// <summary>One row per cohort: is it syncing every 30 minutes, and if not, why.</summary>
static class OverviewPage
{
    /// <summary>The most cohorts one page lists (a project has at most 60 recurring syncs; a service, some thousands).</summary>
    public const int MaxCohorts = 5000;

    sealed record Row(CohortView Cohort, IReadOnlyList<ActionProgressView>? Progress, CohortRejections Rejections, Health Health);

    static readonly string[] Sorts = ["health", "cohort", "members", "last-commit", "rejections"];

    public static async Task<IResult> RenderAsync(
        HttpContext http, string? sort, string? health, string? q,
        CohortQueries cohorts, ConsoleQueries console, ApiCaller caller, CancellationToken ct)
    {
        var projects = caller.Scope.Projects;
        var now = DateTime.UtcNow;
        var listed = await cohorts.ListAsync(projects, "", "", MaxCohorts + 1, ct);
        var progress = await console.OpenProgressAsync(projects, ct);
        var rejections = await console.RejectionsByCohortAsync(projects, ct);

        var rows = listed.Take(MaxCohorts).Select(c =>
        {
            var key = (c.ProjectId, c.CohortId);
            var r = rejections.GetValueOrDefault(key, new CohortRejections(0, null));
            var accepted = Latest(c.LastCommittedAt, c.LastSession?.LastPageAt);
            var h = CohortHealth.Of(now, c.LastCommittedAt, c.LastSession?.FirstPageAt, accepted, r.LastClientErrorAt);
            return new Row(c, progress.GetValueOrDefault(key), r, h);
        }).ToList();

        var counts = rows.GroupBy(r => r.Health).ToDictionary(g => g.Key, g => g.Count());
        var shown = rows
            .Where(r => health is null or "" || CohortHealth.Name(r.Health) == health)
            .Where(r => q is null or "" || Matches(r.Cohort, q));
        shown = (sort ?? "health") switch
        {
            "cohort" => shown.OrderBy(r => r.Cohort.ProjectId, StringComparer.Ordinal).ThenBy(r => r.Cohort.CohortId, StringComparer.Ordinal),
            "members" => shown.OrderByDescending(r => r.Cohort.MemberCount),
            "last-commit" => shown.OrderBy(r => r.Cohort.LastCommittedAt ?? DateTime.MinValue),
            "rejections" => shown.OrderByDescending(r => r.Rejections.LastDay),
            _ => shown.OrderBy(r => r.Health).ThenBy(r => r.Cohort.LastCommittedAt ?? DateTime.MinValue)
                .ThenBy(r => r.Cohort.ProjectId, StringComparer.Ordinal).ThenBy(r => r.Cohort.CohortId, StringComparer.Ordinal),
        };
        var list = shown.ToList();

        var html = new StringBuilder();
        html.Append("""<section class="cards" aria-label="Cohorts by health">""");
        html.Append($"""<a class="card" href="/console">cohorts<b data-count="all">{Html.Number(rows.Count)}</b></a>""");
        foreach (var h in Enum.GetValues<Health>())
            html.Append($"""<a class="card" href="/console?health={Html.Url(CohortHealth.Name(h))}">{CohortHealth.Badge(h)}<b data-count="{Html.Attr(CohortHealth.Name(h))}">{Html.Number(counts.GetValueOrDefault(h))}</b></a>""");
        html.Append("</section>");
        if (listed.Count > MaxCohorts)
            html.Append($"""<p class="notice">Showing the first {Html.Number(MaxCohorts)} cohorts by id; narrow the list with the filter.</p>""");

        html.Append($"""
            <form class="filters" method="get" action="/console" role="search">
            <label for="q">Project or cohort <input id="q" name="q" value="{Html.Attr(q)}" placeholder="id or name"></label>
            <label for="health">Health <select id="health" name="health">{Options(["", .. Enum.GetValues<Health>().Select(CohortHealth.Name)], health, "any")}</select></label>
            <label for="sort">Sort by <select id="sort" name="sort">{Options(Sorts, sort ?? "health", null)}</select></label>
            <button type="submit">Apply</button>
            </form>
            <p class="muted">{Html.Number(list.Count)} of {Html.Number(rows.Count)} cohorts. Mixpanel syncs every 30 minutes: <em>late</em> after two cycles without a commit.</p>
            <div class="scroll"><table id="cohorts">
            <caption class="muted">Cohorts, {Html.Text(SortLabel(sort))}</caption>
            <thead><tr><th scope="col">Health</th><th scope="col">Cohort</th><th scope="col" class="num">Members</th><th scope="col">Last commit</th><th scope="col">Latest session</th><th scope="col" class="num">Rejections 24 h</th></tr></thead>
            <tbody>
            """);
        foreach (var r in list)
            html.Append(RowHtml(r, now));
        html.Append("</tbody></table></div>");
        if (list.Count == 0)
            html.Append("""<p class="notice">No cohort matches. Cohorts appear here from the first page Mixpanel sends.</p>""");
        return ConsoleLayout.Page(http, "Cohorts", "/v1/cohorts", html.ToString());
    }

    static string RowHtml(Row r, DateTime now)
    {
        var c = r.Cohort;
        var href = CohortPage.Href(c.ProjectId, c.CohortId);
        var age = c.LastCommittedAt is { } at ? $"""<br><span class="muted">{Cycles(now - at)}</span>""" : "";
        return $"""
            <tr data-project="{Html.Attr(c.ProjectId)}" data-cohort="{Html.Attr(c.CohortId)}">
            <td>{CohortHealth.Badge(r.Health)}</td>
            <td><a href="{Html.Attr(href)}">{Html.Text(c.Name ?? c.CohortId)}</a><span class="wide"><br><span class="muted id">{Html.Text(c.ProjectId)} / {Html.Text(c.CohortId)}</span></span></td>
            <td class="num" data-members>{Html.Number(c.MemberCount)}</td>
            <td>{Html.Time(c.LastCommittedAt, now)}{age}</td>
            <td>{LatestSession(c.LastSession, r.Progress)}</td>
            <td class="num" data-rejections>{(r.Rejections.LastDay > 0 ? $"""<a href="/console/rejections">{Html.Number(r.Rejections.LastDay)}</a>""" : "0")}</td>
            </tr>
            """;
    }

    public static string LatestSession(SessionSummary? session, IReadOnlyList<ActionProgressView>? progress)
    {
        if (session is null)
            return """<span class="muted">none</span>""";
        var html = StateBadge.For(session.State) + $""" <span class="muted">{Html.Text(session.Kind)}</span>""";
        if (progress is { Count: > 0 })
            html += "<br>" + Progress(progress);
        return html;
    }

    /// <summary>Pages received of the total, for the actions that have sent a page.</summary>
    public static string Progress(IReadOnlyList<ActionProgressView> actions)
    {
        var received = actions.Sum(a => a.PagesReceived);
        var total = actions.Sum(a => a.TotalPages);
        return $"""<progress max="{total}" value="{received}" aria-label="pages received"></progress> <span data-progress>page {Html.Number(received)} of {Html.Number(total)}</span>""";
    }

    /// <summary>An age measured in Mixpanel's 30-minute cycles.</summary>
    static string Cycles(TimeSpan age)
    {
        var cycles = age / CohortHealth.Cycle;
        return cycles < 1 ? "within this cycle" : $"{cycles:0.#} cycles";
    }

    static DateTime? Latest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a > b ? a : b;

    static bool Matches(CohortView c, string q) =>
        c.ProjectId.Contains(q, StringComparison.OrdinalIgnoreCase) || c.CohortId.Contains(q, StringComparison.OrdinalIgnoreCase)
        || (c.Name?.Contains(q, StringComparison.OrdinalIgnoreCase) ?? false);

    static string SortLabel(string? sort) => sort switch
    {
        "cohort" => "by project and cohort id",
        "members" => "most members first",
        "last-commit" => "oldest commit first",
        "rejections" => "most rejections first",
        _ => "worst health first",
    };

    static string Options(IEnumerable<string> values, string? selected, string? emptyLabel) =>
        string.Concat(values.Select(v =>
            $"""<option value="{Html.Attr(v)}"{(v == (selected ?? "") ? " selected" : "")}>{Html.Text(v == "" ? emptyLabel : v)}</option>"""));
}
