using System.Globalization;
using System.Text;
using CohortSync.Host.Cohorts;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// A cohort's latest sessions on one time axis: a bar from each session's first page to its commit (or its
/// last page, or now while open), coloured by status and labelled with it in words, superseded ones naming the
/// session that replaced them. The same facts follow as a list, so colour is never the only signal.
/// </summary>
static class SessionTimeline
{
    /// <summary>Sessions drawn: enough to see a day of half-hourly syncs.</summary>
    const int Drawn = 48;

    const int Width = 720, Row = 20, Top = 6, Axis = 22, IdRight = 118, BarLeft = 124, BarRight = 470, LabelLeft = 478;

    public static string Render(IReadOnlyList<SessionView> newestFirst, DateTime now)
    {
        if (newestFirst.Count == 0)
            return """<p class="muted">No session yet.</p>""";
        var sessions = newestFirst.Take(Drawn).Reverse().ToList();
        var spans = sessions.Select(s => (Session: s, Start: Utc(s.FirstPageAt), End: End(s, now))).ToList();
        var from = spans.Min(s => s.Start);
        var to = spans.Max(s => s.End);
        var scale = Math.Max(1, (to - from).TotalMilliseconds);
        double X(DateTime at) => BarLeft + (BarRight - BarLeft) * (at - from).TotalMilliseconds / scale;

        var height = Top + sessions.Count * Row + Axis;
        var label = $"Timeline of the latest {sessions.Count} sessions, oldest at the top, from {Stamp(from)} to {Stamp(to)}";
        var svg = new StringBuilder($"""<svg class="chart timeline" viewBox="0 0 {Width} {height}" role="img" aria-label="{Html.Attr(label)}"><title>{Html.Text(label)}</title>""");
        var text = new StringBuilder("""<details class="timeline-text"><summary>The timeline as text</summary><ol>""");
        for (var i = 0; i < spans.Count; i++)
        {
            var (s, start, end) = spans[i];
            var y = Top + i * Row;
            var x = X(start);
            // At least a few pixels: a session of seconds in a day of syncs still shows.
            var width = Math.Max(3, X(end) - x);
            var status = Status(s);
            var tip = $"{s.SessionId}: {status}, {Stamp(start)} to {(s.State == Domain.SessionAssembly.SessionStatus.Open.ToString() ? "now" : Stamp(end))} ({Html.Duration(end - start)})";
            var css = StateBadge.Described(s.State) ? "tl-" + s.State : "tl-other";
            svg.Append($"""<text x="{IdRight}" y="{y + 13}" text-anchor="end" font-size="11" fill="#1b1f24">{Html.Text(Short(s.SessionId))}</text>""");
            svg.Append($"""<rect class="{Html.Attr(css)}" data-session="{Html.Attr(s.SessionId)}" x="{F(x)}" y="{y + 3}" width="{F(width)}" height="{Row - 6}" rx="2"><title>{Html.Text(tip)}</title></rect>""");
            svg.Append($"""<text x="{LabelLeft}" y="{y + 13}" font-size="11" fill="#1b1f24">{Html.Text(StateBadge.Symbol(s.State) + " " + status + ", " + Html.Duration(end - start))}</text>""");
            text.Append($"""<li data-session="{Html.Attr(s.SessionId)}">{Html.Text(tip)}</li>""");
        }
        var axisY = Top + sessions.Count * Row + 4;
        svg.Append($"""<line x1="{BarLeft}" x2="{BarRight}" y1="{axisY}" y2="{axisY}" stroke="#57606a"/>""");
        svg.Append($"""<text x="{BarLeft}" y="{axisY + 14}" font-size="11" fill="#1b1f24">{Html.Text(Stamp(from))}</text>""");
        svg.Append($"""<text x="{BarRight}" y="{axisY + 14}" text-anchor="end" font-size="11" fill="#1b1f24">{Html.Text(Stamp(to))}</text>""");
        return svg.Append("</svg>").ToString()
               + """<p class="legend">Each bar runs from a session's first page to its commit (to its last page if it never committed, to now while open); its status is written beside it.</p>"""
               + text.Append("</ol></details>").ToString();
    }

    static string Status(SessionView s) =>
        s.SupersededBy is { } by ? $"{s.State} by {by}" : s.State;

    static DateTime End(SessionView s, DateTime now) =>
        s.State == Domain.SessionAssembly.SessionStatus.Open.ToString() ? now : Utc(s.CommittedAt ?? s.LastPageAt);

    static DateTime Utc(DateTime at) => DateTime.SpecifyKind(at.ToUniversalTime(), DateTimeKind.Utc);

    static string Short(string id) => id.Length <= 18 ? id : id[..17] + "…";

    static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    static string Stamp(DateTime at) => at.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
