using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using CohortSync.Domain;
using CohortSync.Mixpanel;

namespace CohortSync.Simulate.Bench;

/// <summary>How long the console's two heaviest pages take, measured on loopback (so close to server time).</summary>
public sealed record ConsoleFigures(int Cohorts, double OverviewMedianMs, double OverviewP95Ms, string LargeCohort, long LargeCohortMembers, double CohortPageMedianMs, double CohortPageP95Ms);

/// <summary>
/// Gives the service <c>cohorts</c> small cohorts through its webhook (one page of 3 members each), then times
/// the console's overview and the page of the largest cohort of <c>largeProject</c>, after a few warm-up loads.
/// </summary>
public static class ConsoleTiming
{
    const int Rounds = 20, WarmUp = 3;

    public static async Task<ConsoleFigures> RunAsync(Uri baseUrl, int cohorts, string largeProject, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(2) };
        // Found before the small cohorts exist: the list is in project order, and they would fill its first page.
        using var list = JsonDocument.Parse(await http.GetStringAsync("v1/cohorts?limit=1000", ct));
        var large = list.RootElement.GetProperty("cohorts").EnumerateArray()
            .Where(c => c.GetProperty("projectId").GetString() == largeProject)
            .DefaultIfEmpty()
            .MaxBy(c => c.ValueKind == JsonValueKind.Object ? c.GetProperty("memberCount").GetInt64() : -1);
        if (large.ValueKind != JsonValueKind.Object)
            throw new InvalidOperationException($"no cohort in project {largeProject} among the first 1,000");
        var largeId = large.GetProperty("cohortId").GetString()!;

        await Parallel.ForAsync(0, cohorts, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
        {
            var page = new WebhookPage(
                WebhookAction.Members, ProjectId.Of("bench-console"), CohortId.Of($"cohort-{i:D5}"),
                $"Console cohort {i}", "", SessionId.Of("s1"),
                new PageInfo(1, 1), [SimulatedUsers.Profile(3L * i), SimulatedUsers.Profile(3L * i + 1), SimulatedUsers.Profile(3L * i + 2)]);
            using var content = new ByteArrayContent(PageBody.Render(page));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync("webhook", content, token);
            response.EnsureSuccessStatusCode();
        });

        var overview = await TimeAsync(http, "console", ct);
        var cohortPage = await TimeAsync(http, $"console/cohorts/{Uri.EscapeDataString(largeProject)}/{Uri.EscapeDataString(largeId)}", ct);
        return new ConsoleFigures(
            cohorts, overview.Median, overview.P95, $"{largeProject}/{largeId}", large.GetProperty("memberCount").GetInt64(),
            cohortPage.Median, cohortPage.P95);
    }

    static async Task<(double Median, double P95)> TimeAsync(HttpClient http, string path, CancellationToken ct)
    {
        var times = new List<double>();
        for (var i = 0; i < WarmUp + Rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(path, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            watch.Stop();
            response.EnsureSuccessStatusCode();
            if (i >= WarmUp)
                times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (Math.Round(times[times.Count / 2], 1), Math.Round(times[(int)Math.Ceiling(times.Count * 0.95) - 1], 1));
    }

    /// <summary>The console's server-time target, per page.</summary>
    public const double TargetMs = 200;

    /// <summary>
    /// Adds the console's two figures to a bench report: a row each in its targets table (judged on the p95, so
    /// that most loads, not only the typical one, are within the target) and the figures under <c>console</c>.
    /// </summary>
    public static void AddTo(JsonObject report, ConsoleFigures f)
    {
        TargetRow Row(string figure, double median, double p95) => new(
            figure, string.Create(CultureInfo.InvariantCulture, $"≤ {TargetMs:F0} ms server time"),
            string.Create(CultureInfo.InvariantCulture, $"median {median:F1} ms, p95 {p95:F1} ms"), p95, p95 <= TargetMs);
        var rows = new[]
        {
            Row($"console overview with {f.Cohorts:N0} more small cohorts", f.OverviewMedianMs, f.OverviewP95Ms),
            Row($"console page of cohort {f.LargeCohort} ({f.LargeCohortMembers:N0} members)", f.CohortPageMedianMs, f.CohortPageP95Ms),
        };
        var targets = report["targets"]!.AsArray();
        foreach (var row in rows)
            targets.Add(JsonSerializer.SerializeToNode(row, JsonSerializerOptions.Web));
        report["targetsMet"] = report["targetsMet"]!.GetValue<int>() + rows.Count(r => r.Met);
        report["targetsMissed"] = report["targetsMissed"]!.GetValue<int>() + rows.Count(r => !r.Met);
        report["console"] = JsonSerializer.SerializeToNode(f, JsonSerializerOptions.Web);
    }

    public static void WriteText(ConsoleFigures f, TextWriter w)
    {
        string Line(string what, double median, double p95) =>
            string.Create(CultureInfo.InvariantCulture, $"{what}: median {median:F1} ms, p95 {p95:F1} ms (target ≤ {TargetMs:F0} ms: {(p95 <= TargetMs ? "met" : "MISSED")})");
        w.WriteLine(Line($"console overview, {f.Cohorts:N0} more cohorts", f.OverviewMedianMs, f.OverviewP95Ms));
        w.WriteLine(Line($"console page of cohort {f.LargeCohort} ({f.LargeCohortMembers:N0} members)", f.CohortPageMedianMs, f.CohortPageP95Ms));
    }
}
