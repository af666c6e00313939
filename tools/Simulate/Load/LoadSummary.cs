using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CohortSync.Simulate.Load;

/// <summary>What the load run was asked to do (never a password).</summary>
public sealed record LoadSettings(
    string Url, string ReadApiUrl, string? Username, string Project, string Cohort, int Size, int PageSize, int InFlight,
    int Diff, int Entering, int Leaving, double TimeoutSeconds);

/// <summary>One sync timed: pushing its pages (first request to last acknowledgement), then its commit becoming
/// visible through the read API. Throughput is over the push.</summary>
public sealed record SyncFigures(
    string SessionId, int Pages, long Members, double PushSeconds, double LastAckToVisibleSeconds, double FirstRequestToCommittedSeconds,
    double PagesPerSecond, double MembersPerSecond, LatencyMs AckLatency, double LastPageMs, int ReadsUntilVisible)
{
    public static SyncFigures Of(RenderedSync sync, Push push, long visibleAt, int readsUntilVisible)
    {
        var seconds = Math.Max(push.Seconds, 1e-6);
        return new SyncFigures(
            sync.SessionId.Value, sync.Pages, sync.Members, push.Seconds,
            Stopwatch.GetElapsedTime(push.LastAcknowledged, visibleAt).TotalSeconds,
            Stopwatch.GetElapsedTime(push.FirstSent, visibleAt).TotalSeconds,
            sync.Pages / seconds, sync.Members / seconds, Latency(push.LatenciesMs), push.LatenciesMs[^1], readsUntilVisible);
    }

    /// <summary>Nearest-rank percentiles, as <c>simulate</c> reports its own.</summary>
    static LatencyMs Latency(double[] ms)
    {
        var sorted = ms.Order().ToArray();
        double At(double percent) => sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LatencyMs(At(50), At(95), At(99), sorted[^1]);
    }
}

/// <summary>The cohort the service holds after the run: its member count, and users looked up one by one
/// (<see cref="Wrong"/> names those found where they should not be, or missing).</summary>
public sealed record Verification(long ExpectedCount, long FoundCount, int Sampled, IReadOnlyList<string> Wrong)
{
    public bool Passed => FoundCount == ExpectedCount && Wrong.Count == 0;
}

/// <summary>The load run in figures; filled as it goes, so that an aborted run still says how far it got.</summary>
public sealed class LoadSummary(LoadSettings settings)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public LoadSettings Settings { get; } = settings;
    public double RenderSeconds { get; set; }
    public double RenderedMegabytes { get; set; }
    public SyncFigures? Full { get; set; }
    public SyncFigures? Diff { get; set; }
    public Verification? Verification { get; set; }

    /// <summary>With <c>--sink</c>: how long the syncs' changes took to reach a destination.</summary>
    public DeliveryFigures? Delivery { get; set; }

    /// <summary>From the full sync's first request to the end of the verification.</summary>
    public double? TotalSeconds { get; set; }

    public string? Error { get; set; }
    public int ExitCode { get; set; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void WriteText(TextWriter w)
    {
        var s = Settings;
        var c = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(c,
            $"simulate --load: {s.Size:N0} members in pages of {s.PageSize:N0}, {s.InFlight} in flight; diff {s.Diff:N0} "
            + $"({s.Entering:N0} in, {s.Leaving:N0} out); project {s.Project}, cohort {s.Cohort}"));
        w.WriteLine(string.Create(c, $"  webhook        {s.Url}{(s.Username is null ? "" : $" (Basic, user {s.Username})")}"));
        w.WriteLine(string.Create(c, $"  rendered       {RenderedMegabytes:N1} MB of bodies in {RenderSeconds:F2} s, before the clock"));
        WriteSync(w, "full sync", Full);
        WriteSync(w, "diff sync", Diff);
        if (Verification is { } v)
        {
            var wrong = v.Wrong.Count == 0 ? "" : ": " + string.Join(", ", v.Wrong.Take(10));
            w.WriteLine(string.Create(c,
                $"  verification   {v.FoundCount:N0} members (expected {v.ExpectedCount:N0}); {v.Sampled} users looked up, "
                + $"{v.Wrong.Count} wrong{wrong} -> {(v.Passed ? "passed" : "FAILED")}"));
        }
        if (Delivery is { } delivery)
            WriteDelivery(w, delivery);
        if (TotalSeconds is { } total)
            w.WriteLine(string.Create(c, $"  total          {total:F2} s from the first request to the end of the verification"));
        if (Error is not null)
            w.WriteLine($"  ABORTED        {Error}");
    }

    static void WriteDelivery(TextWriter w, DeliveryFigures d)
    {
        var c = CultureInfo.InvariantCulture;
        string Sync(SyncDelivery? s) =>
            s is null ? "-"
            : s.CommitToLastDeliveredSeconds is not { } last ? string.Create(c, $"{s.Held:N0} of {s.Changes:N0} changes delivered within --sink-wait")
            : string.Create(c,
                $"{s.Changes:N0} changes in {s.Batches:N0} batches, commit to last delivered {last:F2} s ({s.ChangesPerSecond:N0} changes/s); "
                + $"commit to delivered p50 {s.CommitToDelivered!.P50:F0} ms, p99 {s.CommitToDelivered.P99:F0} ms");
        w.WriteLine(string.Create(c, $"  delivery       batches of {d.BatchSize:N0}, {d.Requests:N0} requests; full sync: {Sync(d.Full)}"));
        w.WriteLine($"  {"",-14} diff sync: {Sync(d.Diff)}");
        w.WriteLine(d.AckWhileDelivering is { } a
            ? string.Create(c, $"  {"",-14} {d.AckSamples:N0} pages acknowledged while delivering (project {d.ProbeProject}): p50 {a.P50:F1} ms, p99 {a.P99:F1} ms, max {a.Max:F1} ms")
            : $"  {"",-14} no page acknowledged while delivering");
    }

    static void WriteSync(TextWriter w, string name, SyncFigures? f)
    {
        if (f is null)
            return;
        var c = CultureInfo.InvariantCulture;
        var l = f.AckLatency;
        w.WriteLine(string.Create(c,
            $"  {name,-14} {f.Pages:N0} pages, {f.Members:N0} members pushed in {f.PushSeconds:F2} s ({f.PagesPerSecond:N1} pages/s, "
            + $"{f.MembersPerSecond:N0} members/s); last ack to visible {f.LastAckToVisibleSeconds:F3} s ({(f.ReadsUntilVisible == 1 ? "1 read" : $"{f.ReadsUntilVisible} reads")}); first request to committed "
            + $"{f.FirstRequestToCommittedSeconds:F2} s"));
        w.WriteLine(string.Create(c,
            $"  {"",-14} ack latency p50 {l.P50:F1} ms, p95 {l.P95:F1} ms, p99 {l.P99:F1} ms, max {l.Max:F1} ms; last page {f.LastPageMs:F1} ms"));
    }
}
