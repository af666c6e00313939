using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Rejections;

namespace CohortSync.Host.OperatorConsole;

/// <summary>What the webhook refused, newest first, with the message Mixpanel shows for it (which names the body's problem paths).</summary>
static class RejectionsPage
{
    const int PageSize = 50;

    public static async Task<IResult> RenderAsync(
        HttpContext http, string? before, string? project, string? cohort, RejectionQueries queries, ApiCaller caller, CancellationToken ct)
    {
        var beforeId = long.TryParse(before, out var b) && b > 0 ? b : long.MaxValue;
        var filter = new RejectionFilter(string.IsNullOrWhiteSpace(project) ? null : project.Trim(), string.IsNullOrWhiteSpace(cohort) ? null : cohort.Trim());
        var rows = await queries.ListAsync(caller.Scope.Projects, filter, beforeId, PageSize + 1, ct);
        var now = DateTime.UtcNow;
        var query = string.Join("&", new[] { ("projectId", filter.ProjectId), ("cohortId", filter.CohortId) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Html.Url(p.Item2!)}"));
        var json = "/v1/rejections" + (query == "" ? "" : "?" + query);
        var html = new StringBuilder($"""
            <p class="muted">Each message is the one the webhook answered, as Mixpanel shows it in its sync log. Mixpanel pauses a cohort's sync after a 400, 401, 403 or 404.</p>
            <form class="filters" method="get" action="/console/rejections" role="search" aria-label="Filter rejections">
            <label for="project">Project <input id="project" name="project" value="{Html.Attr(filter.ProjectId)}"></label>
            <label for="cohort">Cohort id <input id="cohort" name="cohort" value="{Html.Attr(filter.CohortId)}"></label>
            <button type="submit">Filter</button>
            {(query == "" ? "" : $"""<a href="/console/rejections">Show all</a> · <a href="{Html.Attr(json)}" data-json>these in /v1</a>""")}
            </form>
            <div class="scroll"><table id="rejections">
            <thead><tr><th scope="col">Received</th><th scope="col" class="num">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Cohort</th><th scope="col" class="wide">Action · session</th><th scope="col" class="num wide">Size</th></tr></thead>
            <tbody>
            """);
        foreach (var (_, r) in rows.Take(PageSize))
        {
            var named = r is { ProjectId: { } p, CohortId: { } c }
                ? $"""<a href="{Html.Attr(CohortPage.Href(p, c))}" class="id">{Html.Text(p)} / {Html.Text(c)}</a><br><a href="/console/rejections?project={Html.Url(p)}&amp;cohort={Html.Url(c)}" class="muted">only this cohort</a>"""
                : $"""<span class="id">{Html.Text(r.ProjectId ?? "–")}</span>""";
            html.Append($"""
                <tr>
                <td>{Html.Time(r.ReceivedAt, now)}</td>
                <td class="num"><strong>{r.Status}</strong>{(ConsoleQueries.PausesSync(r.Status) ? """<br><span class="badge health-pausing" title="Mixpanel pauses a cohort's sync after this answer">‖ pauses sync</span>""" : "")}</td>
                <td><code class="nowrap">{Html.Text(r.Reason)}</code></td>
                <td data-message>{Html.Text(r.Message)}</td>
                <td>{named}</td>
                <td class="wide id">{Html.Text(r.Action ?? "–")} · {Html.Text(r.SessionId ?? "–")}</td>
                <td class="num wide">{(r.SizeBytes is { } size ? Html.Number(size) + " B" : "–")}</td>
                </tr>
                """);
        }
        html.Append("</tbody></table></div>");
        if (rows.Count == 0)
            html.Append($"""<p class="notice" data-rejections="none">Nothing refused{(query == "" ? "" : " that matches")}.</p>""");
        if (rows.Count > PageSize)
            html.Append($"""<p><a href="/console/rejections?before={rows[PageSize - 1].Id}{(filter.ProjectId is { } fp ? "&amp;project=" + Html.Url(fp) : "")}{(filter.CohortId is { } fc ? "&amp;cohort=" + Html.Url(fc) : "")}">Older rejections</a></p>""");
        return ConsoleLayout.Page(http, "Rejections", json, html.ToString());
    }
}
