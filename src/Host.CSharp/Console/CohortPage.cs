using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Cohorts;
using CohortSync.Host.Feed;
using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.OperatorConsole;

/// <summary>One cohort: its member count over time, what each sync changed, its sessions, and its members.</summary>
static class CohortPage
{
    /// <summary>Sessions (and so commits) a page draws; older ones are in /v1 through its cursor.</summary>
    const int Sessions = 100;
    const int Transitions = 25;

    public static string Href(string projectId, string cohortId) => $"/console/cohorts/{Html.Url(projectId)}/{Html.Url(cohortId)}";

    public static async Task<IResult> RenderAsync(
        HttpContext http, string projectId, string cohortId, string? member,
        CohortQueries cohorts, SessionQueries sessions, FeedQueries feed, ConsoleQueries console, ApiCaller caller, CancellationToken ct)
    {
        var json = $"/v1/cohorts/{Html.Url(projectId)}/{Html.Url(cohortId)}";
        var cohort = caller.Scope.Includes(projectId) ? await cohorts.GetAsync(projectId, cohortId, ct) : null;
        if (cohort is null)
            return ConsoleLayout.Page(http, "No such cohort", json,
                $"""<p class="error">No cohort {Html.Text(cohortId)} in project {Html.Text(projectId)}.</p><p><a href="/console">All cohorts</a></p>""",
                StatusCodes.Status404NotFound);

        var now = DateTime.UtcNow;
        var history = (await sessions.HistoryAsync(projectId, cohortId, long.MaxValue, Sessions, ct))!.Select(s => s.Session).ToList();
        var rejections = (await console.RejectionsByCohortAsync([projectId], ct)).GetValueOrDefault((projectId, cohortId), new CohortRejections(0, null));
        var latest = history.FirstOrDefault();
        var accepted = new[] { cohort.LastCommittedAt, latest?.LastPageAt }.Max();
        var health = CohortHealth.Of(now, cohort.LastCommittedAt, latest?.FirstPageAt, accepted, rejections.LastClientErrorAt);
        var commits = CohortCharts.Commits(cohort.MemberCount, history);

        var html = new StringBuilder();
        html.Append($"""
            <p class="muted id">project {Html.Text(projectId)} · cohort {Html.Text(cohortId)}{(cohort.Description is { } d ? " · " + Html.Text(d) : "")}</p>
            <section class="cards" aria-label="Summary">
            <div class="card">health<b>{CohortHealth.Badge(health)}</b></div>
            <div class="card">members<b data-members>{Html.Number(cohort.MemberCount)}</b></div>
            <div class="card">last commit<b>{Html.Time(cohort.LastCommittedAt, now)}</b></div>
            <a class="card" href="/console/rejections?project={Html.Url(projectId)}&amp;cohort={Html.Url(cohortId)}">rejections 24 h<b data-rejections>{Html.Number(rejections.LastDay)}</b></a>
            </section>
            <h2 id="members-over-time">Members over time</h2>
            {CohortCharts.MemberCount(commits)}
            <h2 id="entered-exited">Entered and exited per sync</h2>
            {CohortCharts.EnteredExited(commits)}
            """);
        html.Append(SessionTable(history, now, json));
        html.Append(await TransitionsAsync(projectId, cohortId, feed, console, caller, now, ct));
        html.Append(await MemberSearch.RenderAsync(http, projectId, cohortId, member, now, ct));
        return ConsoleLayout.Page(http, cohort.Name ?? cohortId, json, html.ToString());
    }

    static string SessionTable(IReadOnlyList<SessionView> history, DateTime now, string json)
    {
        var html = new StringBuilder($"""
            <h2 id="sessions">Sessions</h2>
            {SessionTimeline.Render(history, now)}
            <p class="muted">Newest first, the latest {Html.Number(Sessions)}; all of them in <a href="{Html.Attr(json)}/sessions">/v1</a>.</p>
            <div class="scroll"><table id="session-table">
            <thead><tr><th scope="col">Opened</th><th scope="col">Session</th><th scope="col">Status</th><th scope="col">Pages</th><th scope="col" class="num">Entered</th><th scope="col" class="num">Exited</th><th scope="col" class="num wide">Duration</th><th scope="col" class="wide">Superseded by</th></tr></thead>
            <tbody>
            """);
        foreach (var s in history)
        {
            var end = s.CommittedAt ?? s.LastPageAt;
            var actions = string.Join("<br>", s.Actions.Select(a => $"""{Html.Text(a.Action)}: {Html.Number(a.PagesReceived)} of {Html.Number(a.TotalPages)}"""));
            html.Append($"""
                <tr data-session="{Html.Attr(s.SessionId)}">
                <td>{Html.Time(s.FirstPageAt, now)}</td>
                <td><span class="id">{Html.Text(s.SessionId)}</span><br><span class="muted">{Html.Text(s.Kind)}</span></td>
                <td>{StateBadge.For(s.State)}</td>
                <td>{(s.State == Domain.SessionAssembly.SessionStatus.Open.ToString() && s.Actions.Count > 0 ? OverviewPage.Progress(s.Actions) + "<br>" : "")}{actions}</td>
                <td class="num">{Html.Number(s.Entered)}</td>
                <td class="num">{Html.Number(s.Exited)}</td>
                <td class="num wide">{Html.Duration(end - s.FirstPageAt)}</td>
                <td class="wide id">{Html.Text(s.SupersededBy ?? "")}</td>
                </tr>
                """);
        }
        return html.Append("</tbody></table></div>").ToString();
    }

    /// <summary>The first transitions of the cohort's latest commit that recorded any, read from the feed itself.</summary>
    static async Task<string> TransitionsAsync(
        string projectId, string cohortId, FeedQueries feed, ConsoleQueries console, ApiCaller caller, DateTime now, CancellationToken ct)
    {
        var feedJson = $"/v1/events?projectId={Html.Url(projectId)}&cohortId={Html.Url(cohortId)}";
        var html = new StringBuilder($"""<h2 id="transitions">Latest transitions</h2>""");
        if (await console.LatestCommitPositionAsync(projectId, cohortId, ct) is not { } position)
            return html.Append("""<p class="muted">None yet.</p>""").ToString();
        var from = new FeedCursor(position, "");
        var read = await feed.EventsAsync(new FeedFilter(caller.Scope.Projects, projectId, cohortId, null), from, Transitions, ct);
        html.Append($"""
            <p class="muted">The latest commit's first {Html.Number(Transitions)}, in feed order; the whole feed of this cohort in <a href="{Html.Attr(feedJson)}">/v1/events</a>; <a href="{Html.Attr(feedJson)}&amp;after={Html.Url(from.Encode())}">this commit's transitions in /v1/events</a>.</p>
            <div class="scroll"><table id="transition-table"><thead><tr><th scope="col">User</th><th scope="col">Change</th><th scope="col">Session</th><th scope="col">Recorded</th></tr></thead><tbody>
            """);
        foreach (var e in read.Events)
            html.Append($"""<tr><td class="id"><a href="?member={Html.Url(e.DistinctId)}#member">{Html.Text(e.DistinctId)}</a></td><td>{(e.Kind == Database.StorageNames.Entered ? "+ entered" : "− exited")}</td><td class="id">{Html.Text(e.SessionId)}</td><td>{Html.Time(e.RecordedAt, now)}</td></tr>""");
        return html.Append("</tbody></table></div>").ToString();
    }
}
