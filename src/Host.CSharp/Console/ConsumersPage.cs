using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Destinations;
using CohortSync.Host.Feed;

namespace CohortSync.Host.OperatorConsole;

/// <summary>Whether the workers reading the change feed keep up: each named consumer's cursor against the head, and each destination's backlog.</summary>
static class ConsumersPage
{
    public static async Task<IResult> RenderAsync(HttpContext http, ConsoleQueries queries, DestinationStore store, DeliveryQueries deliveries,
        ApiCaller caller, CancellationToken ct)
    {
        var consumers = await queries.ConsumerLagAsync(caller.Scope.Name, caller.Scope.Projects, ct);
        var now = DateTime.UtcNow;
        var html = new StringBuilder("""
            <h2 id="consumers">Feed consumers</h2>
            <p class="muted">Workers that store their cursor under this key's projects (<code>PUT /v1/consumers/{name}/cursor</code>). A commit is behind until the consumer's cursor is past its last transition; the lag is the age of the oldest such commit.</p>
            <div class="scroll"><table id="consumer-table">
            <thead><tr><th scope="col">Consumer</th><th scope="col" class="num">Commits behind</th><th scope="col">Lag</th><th scope="col">Cursor stored</th><th scope="col">JSON</th></tr></thead>
            <tbody>
            """);
        foreach (var c in consumers)
        {
            var cursor = new FeedCursor(c.CommitPosition, c.DistinctId).Encode();
            var lag = c.OldestUnreadAt is { } oldest ? Html.Duration(now - oldest) : "caught up";
            html.Append($"""
                <tr data-consumer="{Html.Attr(c.Name)}">
                <td class="id">{Html.Text(c.Name)}</td>
                <td class="num" data-behind>{Html.Number(c.CommitsBehind)}</td>
                <td>{(c.CommitsBehind == 0 ? "✓ caught up" : "◷ " + Html.Text(lag) + " behind")}</td>
                <td>{Html.Time(c.UpdatedAt, now)}</td>
                <td><a href="/v1/consumers/{Html.Url(c.Name)}/cursor">cursor</a> · <a href="/v1/events?after={Html.Url(cursor)}">what is next</a></td>
                </tr>
                """);
        }
        html.Append("</tbody></table></div>");
        if (consumers.Count == 0)
            html.Append("""<p class="notice">No consumer has stored a cursor under this key's projects.</p>""");
        await DestinationsSection.AppendAsync(html, store, deliveries, caller.Scope.Projects, http.Request.Query["replayed"].ToString(), now, ct);
        return ConsoleLayout.Page(http, "Feed consumers and destinations", "/v1/events", html.ToString());
    }
}
