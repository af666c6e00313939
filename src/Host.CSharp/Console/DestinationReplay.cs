using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Destinations;
using CohortSync.Host.Feed;
using Microsoft.AspNetCore.Antiforgery;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// Replaying a destination from the console: a confirmation page that says what will be sent again, then a
/// form posted with its antiforgery token, which starts the replay as <c>POST /v1/destinations/{id}/replay</c> does.
/// </summary>
static class DestinationReplay
{
    const int BatchesRead = 100;
    const string Other = "other";

    public static string Href(string id) => $"/console/destinations/{Html.Url(id)}/replay";

    public static RouteGroupBuilder MapDestinationReplay(this RouteGroupBuilder console)
    {
        console.MapGet("/destinations/{id}/replay", (HttpContext http, string id, DestinationStore store, DeliveryQueries deliveries, ApiCaller caller, CancellationToken ct) =>
            ConfirmAsync(http, id, null, store, deliveries, caller, ct));
        // Checked by hand (as sign-in is), so that a refused form gets a page saying why.
        console.MapPost("/destinations/{id}/replay", ReplayAsync).DisableAntiforgery();
        return console;
    }

    static async Task<IResult> ReplayAsync(
        HttpContext http, string id, IAntiforgery antiforgery, DestinationStore store, DeliveryQueries deliveries, ApiCaller caller, CancellationToken ct)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
            return ConsoleLayout.Page(http, "Replay refused", "/v1/destinations",
                $"""<p class="error" role="alert">The form expired or came from another site: nothing was replayed.</p><p><a href="{Html.Attr(Href(id))}">Start again</a></p>""",
                StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync(ct);
        var text = form["from"].ToString() == Other ? form["cursor"].ToString().Trim() : form["from"].ToString();
        if (!FeedCursor.TryDecode(text, out var from))
            return await ConfirmAsync(http, id, "That is not a feed position this service issued: pick one of the choices, or paste a cursor from /v1.", store, deliveries, caller, ct);
        if (!Guid.TryParse(id, out var key) || await store.ReplayAsync(key, caller.Scope.Projects, from, ct) is null)
            return Missing(http, id);
        return TypedResults.Redirect($"/console/consumers?replayed={Html.Url(id)}#destinations");
    }

    static async Task<IResult> ConfirmAsync(
        HttpContext http, string id, string? error, DestinationStore store, DeliveryQueries deliveries, ApiCaller caller, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var key) || await store.GetAsync(key, caller.Scope.Projects, ct) is not { } row
            || await deliveries.PageAsync(key, caller.Scope.Projects, null, BatchesRead, ct) is not { } page)
            return Missing(http, id);
        var destination = store.View(row);
        var now = DateTime.UtcNow;
        // The oldest batch of changes listed (a mixpanel destination's batches of action reports have no feed
        // place), from the start of its first commit: replaying from there sends again what it was sent.
        var oldest = page.Deliveries.LastOrDefault(b => !b.Replay && b.From is not null);
        var oldestFrom = oldest?.From is { } text && FeedCursor.TryDecode(text, out var first) ? new FeedCursor(first.CommitPosition, "") : (FeedCursor?)null;
        var path = "/v1/destinations/" + Html.Url(id);
        var scope = destination.CohortIds is { Count: > 0 } cohorts ? "cohorts " + string.Join(", ", cohorts) : "every cohort";

        var html = new StringBuilder($"""
            <p class="muted id">destination {Html.Text(id)} · {Html.Text(DestinationsSection.Host(destination.Url))} · project {Html.Text(destination.ProjectId)}</p>
            <section class="notice" aria-labelledby="what-happens">
            <h2 id="what-happens">What will happen</h2>
            <p>The changes of project {Html.Text(destination.ProjectId)} ({Html.Text(scope)}; {Html.Text(string.Join(" and ", destination.Kinds))}) recorded after the position you pick,
            up to where batch forming has got to now, are formed again into new batches marked <strong>replay</strong> and sent in feed order.
            Users are sent again even if this destination already had them. Batches already waiting ({Html.Number(page.PendingBatches)} now) are sent as before.</p>
            </section>
            {(error is null ? "" : $"""<p class="error" role="alert">{Html.Text(error)}</p>""")}
            <form method="post" action="{Html.Attr(Href(id))}" class="replay">
            {ConsoleAccess.FormToken(http)}
            <fieldset>
            <legend>Replay from</legend>
            """);
        if (oldestFrom is { } start)
            html.Append($"""<label class="choice"><input type="radio" name="from" value="{Html.Attr(start.Encode())}" checked> the start of its oldest batch listed (batch {Html.Number(oldest!.Batch)}, formed {Html.Time(oldest.FormedAt, now)}): what it was sent again</label>""");
        html.Append($"""
            <label class="choice"><input type="radio" name="from" value="{Html.Attr(FeedCursor.Start.Encode())}"{(oldestFrom is null ? " checked" : "")}> the start of the feed: every change of the project the feed still keeps</label>
            <label class="choice"><input type="radio" name="from" value="{Other}"> another feed position (a cursor from <a href="/v1/events?projectId={Html.Url(destination.ProjectId)}">/v1/events</a> or a batch's <code>from</code> in <a href="{path}/deliveries">its deliveries</a>):</label>
            <label for="cursor">Feed cursor <input id="cursor" name="cursor" autocomplete="off" spellcheck="false"></label>
            </fieldset>
            <p><button type="submit">Replay</button> <a href="/console/consumers#destinations">Cancel</a></p>
            </form>
            """);
        return ConsoleLayout.Page(http, "Replay a destination", path, html.ToString(), error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    static IResult Missing(HttpContext http, string id) =>
        ConsoleLayout.Page(http, "No such destination", "/v1/destinations",
            $"""<p class="error">No destination {Html.Text(id)}.</p><p><a href="/console/consumers#destinations">All destinations</a></p>""",
            StatusCodes.Status404NotFound);
}
