using System.Text;
using CohortSync.Host.Destinations;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// Whether destinations keep up: each one's state, batches waiting, the failed attempts at the head of its
/// queue and when it is tried next, read through the same queries as <c>/v1/destinations</c>.
/// </summary>
static class DestinationsSection
{
    /// <summary>Batches read per destination: enough to hold the head of any backlog an operator can still act on.</summary>
    const int BatchesRead = 100;

    sealed record Look(string Name, string Symbol, string Hint);

    static readonly Dictionary<string, Look> Looks = new()
    {
        ["active"] = new("enabled", "✓", "changes are delivered as they are committed"),
        ["failing"] = new("failing", "✕", "its retry schedule ran out: enable it again to resume"),
        ["gone"] = new("gone", "✕", "it answered 410, which disabled it"),
        ["disabled"] = new("disabled", "⏸", "disabled: nothing is sent until it is enabled again"),
    };

    /// <summary>The section; <paramref name="replayed"/> names the destination whose replay the console just started (empty for none).</summary>
    public static async Task AppendAsync(
        StringBuilder html, DestinationStore store, DeliveryQueries deliveries, string[]? projects, string replayed, DateTime now, CancellationToken ct)
    {
        html.Append("""
            <h2 id="destinations">Destinations</h2>
            <p class="muted">Endpoints that are sent what the feed records (<code>/v1/destinations</code>). The backlog is the batches formed and not delivered yet; failures are the failed attempts of the oldest of them, which is the one tried next; the lag is the age of the oldest change waiting.</p>
            """);
        var destinations = await store.ListAsync(projects, null, ct);
        if (destinations.FirstOrDefault(d => d.Id == replayed) is { } started)
            html.Append($"""<p class="notice" role="status" data-replayed="{Html.Attr(started.Id)}">✓ Replay of {Html.Text(Host(started.Url))} started: its changes are being formed into batches marked replay, listed below and in <a href="/v1/destinations/{Html.Url(started.Id)}/deliveries">its deliveries</a>.</p>""");
        if (destinations.Count == 0)
        {
            html.Append("""<p class="notice" data-destinations="none">No destination is set up under this key's projects.</p>""");
            return;
        }
        html.Append("""
            <div class="scroll"><table id="destination-table">
            <thead><tr><th scope="col">Destination</th><th scope="col">Project</th><th scope="col">State</th><th scope="col" class="num">Backlog</th><th scope="col" class="num">Failures</th><th scope="col">Next attempt</th><th scope="col">Lag</th><th scope="col">Replay</th><th scope="col">JSON</th></tr></thead>
            <tbody>
            """);
        foreach (var d in destinations)
        {
            // Deleted between the two reads: nothing left to show.
            if (await deliveries.PageAsync(Guid.Parse(d.Id), projects, null, BatchesRead, ct) is not { } page)
                continue;
            // Batches go out in order, so the oldest pending one shown is the one being retried.
            var head = page.Deliveries.LastOrDefault(b => b.State == "pending");
            var look = Looks.GetValueOrDefault(page.State, new Look(page.State, "•", "destination state " + page.State));
            var path = "/v1/destinations/" + Html.Url(d.Id);
            var replays = page.Deliveries.Where(b => b.Replay).ToList();
            var replayText = replays.Count == 0 ? "" : $"""<span data-replay-batches>{Html.Number(replays.Count)}</span> replay batch{(replays.Count == 1 ? "" : "es")}, {Html.Number(replays.Count(b => b.State == "pending"))} waiting<br>""";
            html.Append($"""
                <tr data-destination="{Html.Attr(d.Id)}">
                <td class="id" title="{Html.Attr(d.Url)}">{Html.Text(Host(d.Url))}</td>
                <td class="id">{Html.Text(d.ProjectId)}</td>
                <td data-state><span class="badge {Html.Attr(Looks.ContainsKey(page.State) ? "destination-" + look.Name : "state-other")}" title="{Html.Attr(look.Hint)}"><span aria-hidden="true">{look.Symbol}</span> {Html.Text(look.Name)}</span></td>
                <td class="num" data-backlog>{Html.Number(page.PendingBatches)}</td>
                <td class="num" data-failures>{Html.Number(head?.Attempts ?? 0)}</td>
                <td data-next-attempt>{(head?.NextAttemptAt is { } next ? Html.Time(next, now) : """<span class="muted">–</span>""")}</td>
                <td>{(page.PendingBatches == 0 ? "✓ caught up" : "◷ " + Html.Text(Html.Duration(TimeSpan.FromSeconds(page.LagSeconds))) + " behind")}</td>
                <td>{replayText}<a href="{Html.Attr(DestinationReplay.Href(d.Id))}" aria-label="Replay {Html.Attr(Host(d.Url))}">Replay…</a></td>
                <td><a href="{path}">destination</a> · <a href="{path}/deliveries">deliveries</a></td>
                </tr>
                """);
        }
        html.Append("</tbody></table></div>");
    }

    /// <summary>The host (and port) only: a URL's path and query may carry a token.</summary>
    public static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : url;
}
