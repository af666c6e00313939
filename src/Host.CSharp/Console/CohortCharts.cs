using System.Globalization;
using System.Text;
using CohortSync.Host.Cohorts;

namespace CohortSync.Host.OperatorConsole;

/// <summary>A committed session's effect: the member count after it, and who entered and exited.</summary>
sealed record CommitPoint(DateTime At, string SessionId, long MembersAfter, int Entered, int Exited);

/// <summary>Inline SVG charts of a cohort's commits, drawn with presentation attributes (no styles, no script).</summary>
static class CohortCharts
{
    const int Width = 720, Height = 180, Left = 64, Right = 10, Top = 10, Bottom = 26;

    /// <summary>
    /// Commits oldest first, their member counts walked back from the cohort's current count: each
    /// commit's count is the next one's less what that one added, plus what it removed.
    /// </summary>
    public static List<CommitPoint> Commits(long memberCount, IEnumerable<SessionView> newestFirst)
    {
        var points = new List<CommitPoint>();
        var after = memberCount;
        foreach (var s in newestFirst)
        {
            if (s.CommittedAt is not { } at)
                continue;
            int entered = s.Entered ?? 0, exited = s.Exited ?? 0;
            points.Add(new CommitPoint(at, s.SessionId, after, entered, exited));
            after = after - entered + exited;
        }
        points.Reverse();
        return points;
    }

    public static string MemberCount(IReadOnlyList<CommitPoint> points)
    {
        if (points.Count == 0)
            return """<p class="muted">No commit yet.</p>""";
        var max = Math.Max(1, points.Max(p => p.MembersAfter));
        var svg = Frame("Member count after each commit", max);
        var step = points.Count == 1 ? 0 : (double)(Width - Left - Right) / (points.Count - 1);
        var coords = points.Select((p, i) => (X: Left + i * step, Y: Y(p.MembersAfter, max))).ToList();
        svg.Append($"""<polyline fill="none" stroke="#0550ae" stroke-width="2" points="{string.Join(" ", coords.Select(c => $"{F(c.X)},{F(c.Y)}"))}"/>""");
        foreach (var (p, c) in points.Zip(coords))
            svg.Append($"""<circle cx="{F(c.X)}" cy="{F(c.Y)}" r="3" fill="#0550ae"><title>{Html.Text(Stamp(p.At))}: {Html.Number(p.MembersAfter)} members</title></circle>""");
        svg.Append(TimeLabels(points));
        return svg.Append("</svg>").ToString();
    }

    public static string EnteredExited(IReadOnlyList<CommitPoint> points)
    {
        if (points.Count == 0)
            return "";
        var max = Math.Max(1, points.Max(p => Math.Max(p.Entered, p.Exited)));
        var svg = Frame("Users entered (up, solid) and exited (down, hatched) per commit", max, twoSided: true);
        svg.Append("""<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffebe9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cf222e" stroke-width="3"/></pattern></defs>""");
        var slot = (double)(Width - Left - Right) / points.Count;
        var bar = Math.Max(1, slot * 0.7);
        var mid = Top + (Height - Top - Bottom) / 2.0;
        var half = (Height - Top - Bottom) / 2.0;
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var x = Left + i * slot + (slot - bar) / 2;
            var up = half * p.Entered / max;
            var down = half * p.Exited / max;
            var tip = $"{Stamp(p.At)}: {Html.Number(p.Entered)} entered, {Html.Number(p.Exited)} exited";
            svg.Append($"""<rect x="{F(x)}" y="{F(mid - up)}" width="{F(bar)}" height="{F(up)}" fill="#1a7f37"><title>{Html.Text(tip)}</title></rect>""");
            svg.Append($"""<rect x="{F(x)}" y="{F(mid)}" width="{F(bar)}" height="{F(down)}" fill="url(#hatch)" stroke="#cf222e"><title>{Html.Text(tip)}</title></rect>""");
        }
        svg.Append($"""<line x1="{Left}" x2="{Width - Right}" y1="{F(mid)}" y2="{F(mid)}" stroke="#57606a"/>""");
        svg.Append(TimeLabels(points));
        return svg.Append("</svg>").ToString()
               + """<p class="legend">Solid green bars up: users who entered. Hatched red bars down: users who exited. Hover a bar for its numbers.</p>""";
    }

    static StringBuilder Frame(string label, long max, bool twoSided = false)
    {
        var svg = new StringBuilder($"""<svg class="chart" viewBox="0 0 {Width} {Height}" role="img" aria-label="{Html.Attr(label)}"><title>{Html.Text(label)}</title>""");
        svg.Append($"""<line x1="{Left}" x2="{Left}" y1="{Top}" y2="{Height - Bottom}" stroke="#57606a"/>""");
        svg.Append($"""<text x="{Left - 6}" y="{Top + 10}" text-anchor="end" font-size="12" fill="#1b1f24">{Html.Number(max)}</text>""");
        svg.Append($"""<text x="{Left - 6}" y="{Height - Bottom}" text-anchor="end" font-size="12" fill="#1b1f24">{(twoSided ? "−" + Html.Number(max) : "0")}</text>""");
        return svg;
    }

    /// <summary>The first and last commit's times under the axis.</summary>
    static string TimeLabels(IReadOnlyList<CommitPoint> points) =>
        $"""<text x="{Left}" y="{Height - 6}" font-size="12" fill="#1b1f24">{Html.Text(Stamp(points[0].At))}</text>"""
        + (points.Count > 1 ? $"""<text x="{Width - Right}" y="{Height - 6}" text-anchor="end" font-size="12" fill="#1b1f24">{Html.Text(Stamp(points[^1].At))}</text>""" : "");

    static double Y(long value, long max) => Top + (Height - Top - Bottom) * (1 - (double)value / max);

    static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    static string Stamp(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
