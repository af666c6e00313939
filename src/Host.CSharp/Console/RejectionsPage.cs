using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Rejections;

namespace CohortSync.Host.OperatorConsole;

/// <summary>What the webhook refused, newest first, with the message Mixpanel shows for it (which names the body's problem paths).</summary>
static class RejectionsPage
{
    const int PageSize = 50;

    public static async Task<IResult> RenderAsync(HttpContext http, string? before, RejectionQueries queries, ApiCaller caller, CancellationToken ct)
    {
        var beforeId = long.TryParse(before, out var b) && b > 0 ? b : long.MaxValue;
        var rows = await queries.ListAsync(caller.Scope.Projects, beforeId, PageSize + 1, ct);
        var now = DateTime.UtcNow;
        var html = new StringBuilder("""
            <p class="muted">Each message is the one the webhook answered, as Mixpanel shows it in its sync log. Mixpanel pauses a cohort's sync after a 400, 401, 403 or 404.</p>
            <div class="scroll"><table id="rejections">
            <thead><tr><th scope="col">Received</th><th scope="col" class="num">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Cohort</th><th scope="col" class="wide">Action · session</th><th scope="col" class="num wide">Size</th></tr></thead>
            <tbody>
            """);
        foreach (var (_, r) in rows.Take(PageSize))
        {
            var cohort = r is { ProjectId: { } p, CohortId: { } c }
                ? $"""<a href="{Html.Attr(CohortPage.Href(p, c))}" class="id">{Html.Text(p)} / {Html.Text(c)}</a>"""
                : $"""<span class="id">{Html.Text(r.ProjectId ?? "–")}</span>""";
            html.Append($"""
                <tr>
                <td>{Html.Time(r.ReceivedAt, now)}</td>
                <td class="num"><strong>{r.Status}</strong>{(ConsoleQueries.PausesSync(r.Status) ? """<br><span class="badge health-pausing" title="Mixpanel pauses a cohort's sync after this answer">‖ pauses sync</span>""" : "")}</td>
                <td><code class="nowrap">{Html.Text(r.Reason)}</code></td>
                <td data-message>{Html.Text(r.Message)}</td>
                <td>{cohort}</td>
                <td class="wide id">{Html.Text(r.Action ?? "–")} · {Html.Text(r.SessionId ?? "–")}</td>
                <td class="num wide">{(r.SizeBytes is { } size ? Html.Number(size) + " B" : "–")}</td>
                </tr>
                """);
        }
        html.Append("</tbody></table></div>");
        if (rows.Count == 0)
            html.Append("""<p class="notice">Nothing refused.</p>""");
        if (rows.Count > PageSize)
            html.Append($"""<p><a href="/console/rejections?before={rows[PageSize - 1].Id}">Older rejections</a></p>""");
        return ConsoleLayout.Page(http, "Rejections", "/v1/rejections", html.ToString());
    }
}
