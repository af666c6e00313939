using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CohortSync.Simulate.Sink;

namespace CohortSync.Simulate;

/// <summary>What was asked: enough to replay the run (with <see cref="Seed"/>), never a secret.</summary>
public sealed record SimulationSettings(
    string Url, string ReadApiUrl, string? Username, bool ApiKey, string Project, int Seed, string SessionPrefix,
    int Cohorts, int Size, double Churn, int Syncs, double FaultRate, double DuplicateRate,
    int Concurrency, int InFlight, double TimeScale, int PageSize, int ReadLimit);

public sealed record SyncCounts(long Planned, int Succeeded, int Failed, int Paused, int Skipped, int Full, int Diff);

/// <summary>Acknowledgement latency of accepted calls, as the sender measured it (a duplicated call
/// includes its second copy; a call after a delayed one includes the late copy).</summary>
public sealed record LatencyMs(double? P50, double? P95, double? P99, double? Max);

/// <summary>The run in figures; <see cref="ExitCode"/> is what <c>simulate</c> exits with.</summary>
public sealed record SimulationSummary(
    SimulationSettings Settings,
    SyncCounts Syncs,
    long Pages,
    long Members,
    long Calls,
    long Retries,
    long FaultsInjected,
    IReadOnlyDictionary<string, long> FaultsByKind,
    long Duplicates,
    long LateDeliveries,
    IReadOnlyDictionary<string, long> AnswersSeen,
    long Deliveries,
    double PagesPerSecond,
    double MembersPerSecond,
    LatencyMs AckLatency,
    double WallSeconds,
    double SourceBuildSeconds,
    double CheckSeconds,
    ConvergenceResult Convergence,
    DeliverySummary? Delivery,
    int ExitCode)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public int DivergentCohorts => Convergence.Divergent.Count;

    public static SimulationSummary From(
        SimulateOptions options, string sessionPrefix, RunTally tally, TimeSpan syncTime, TimeSpan sourceBuild, TimeSpan checkTime,
        ConvergenceResult convergence, DeliverySummary? delivery)
    {
        var seconds = Math.Max(syncTime.TotalSeconds, 1e-6);
        var settings = new SimulationSettings(
            options.WebhookUrl.ToString(), options.ReadApiBase.ToString(), options.Credentials?.Username, options.ApiKey is not null,
            options.Project, options.Seed, sessionPrefix, options.Cohorts, options.Size, options.Churn, options.Syncs,
            options.FaultRate, options.DuplicateRate, options.Concurrency, options.InFlight, options.TimeScale, options.PageSize,
            options.ReadLimit);
        return new SimulationSummary(
            settings,
            new SyncCounts((long)options.Cohorts * options.Syncs, tally.SyncsSucceeded, tally.SyncsFailed, tally.SyncsPaused, tally.SyncsSkipped,
                tally.FullSyncs, tally.DiffSyncs),
            tally.PagesAccepted, tally.MembersAccepted, tally.Calls, tally.Retries, tally.FaultsInjected, tally.FaultsByKind,
            tally.Duplicates, tally.LateDeliveries, tally.AnswersSeen, tally.Deliveries,
            tally.PagesAccepted / seconds, tally.MembersAccepted / seconds,
            new LatencyMs(tally.AcceptedLatencyPercentileMs(50), tally.AcceptedLatencyPercentileMs(95), tally.AcceptedLatencyPercentileMs(99),
                tally.AcceptedLatencyPercentileMs(100)),
            syncTime.TotalSeconds, sourceBuild.TotalSeconds, checkTime.TotalSeconds, convergence, delivery,
            ExitCodes.Of(convergence, tally.SyncsPaused, delivery?.Verification.Passed ?? true));
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void WriteText(TextWriter w)
    {
        var s = Settings;
        var c = CultureInfo.InvariantCulture;
        string Ms(double? v) => v is null ? "-" : v.Value.ToString("F1", c) + " ms";
        string Counts(IReadOnlyDictionary<string, long> counts) =>
            counts.Count == 0 ? "none" : string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"));

        w.WriteLine(string.Create(c,
            $"simulate: seed {s.Seed}, {s.Cohorts} cohort(s) of {s.Size:N0} in project {s.Project}, {s.Syncs} sync(s) each, churn {s.Churn}, "
            + $"page size {s.PageSize}, fault rate {s.FaultRate}, duplicate rate {s.DuplicateRate}, time scale {s.TimeScale}"));
        w.WriteLine(string.Create(c, $"  webhook        {s.Url}{(s.Username is null ? "" : $" (Basic, user {s.Username})")}; sessions {s.SessionPrefix}-*"));
        w.WriteLine(string.Create(c,
            $"  syncs          {Syncs.Planned} planned: {Syncs.Succeeded} succeeded, {Syncs.Failed} failed, {Syncs.Paused} paused, "
            + $"{Syncs.Skipped} skipped after a pause ({Syncs.Full} full, {Syncs.Diff} diff)"));
        w.WriteLine(string.Create(c, $"  pages          {Pages:N0} accepted, {Members:N0} members"));
        w.WriteLine(string.Create(c,
            $"  calls          {Calls:N0}: {Retries:N0} retries, {Duplicates:N0} duplicated, {LateDeliveries:N0} held up until their sync ended"));
        w.WriteLine(string.Create(c, $"  faults         {FaultsInjected:N0} injected: {Counts(FaultsByKind)}"));
        w.WriteLine(string.Create(c, $"  answers seen   {Counts(AnswersSeen)}; {Deliveries:N0} copies answered by the service"));
        w.WriteLine(string.Create(c, $"  throughput     {PagesPerSecond:N1} pages/s, {MembersPerSecond:N0} members/s"));
        w.WriteLine(string.Create(c, $"  ack latency    p50 {Ms(AckLatency.P50)}, p95 {Ms(AckLatency.P95)}, p99 {Ms(AckLatency.P99)}, max {Ms(AckLatency.Max)} (accepted calls)"));
        w.WriteLine(string.Create(c,
            $"  wall time      {WallSeconds:F2} s syncing (largest cohort built in {SourceBuildSeconds:F2} s), {CheckSeconds:F2} s checking"));

        if (Convergence.Error is { } error)
            w.WriteLine($"  convergence    NOT CHECKED: {error}");
        else
            WriteConvergence(w);
        if (Delivery is { } delivery)
            DeliveryText.Write(delivery, w);
    }

    void WriteConvergence(TextWriter w)
    {
        var c = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(c, $"  convergence    {Convergence.CohortsChecked} cohort(s) read back: {DivergentCohorts} divergent"));
        foreach (var d in Convergence.Divergent)
        {
            w.WriteLine(string.Create(c,
                $"    {d.ProjectId}/{d.CohortId}: expected {d.Expected:N0}, found {d.Found:N0}; {d.Missing:N0} missing "
                + $"[{string.Join(", ", d.MissingExamples)}], {d.Unexpected:N0} unexpected [{string.Join(", ", d.UnexpectedExamples)}]"));
            w.WriteLine($"      {d.Explanation}");
        }
    }
}
