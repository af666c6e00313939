using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CohortSync.Simulate.Bench;

/// <summary>What bench/run measured, as files: the copy baseline's JSON line, each load run's <c>--json</c>
/// summary, the host's VmRSS samples (kB, one a line) and its VmHWM (kB) read after each load run.</summary>
public sealed record BenchInputs(
    string StartedAt, string Database, bool Quick, string CopyFile,
    string SequentialFile, string SequentialRssFile, long SequentialHwmKb,
    string ParallelFile, string ParallelRssFile, long ParallelHwmKb,
    long WebhookLogLines);

/// <summary>One of the benchmark's target figures: its target, what was measured, and whether that meets it.</summary>
public sealed record TargetRow(string Figure, string Target, string Measured, double Value, bool Met);

/// <summary>
/// The benchmark's verdict: the targets table (target, measured, met or missed) and the throughput behind it,
/// printed, and everything measured written as one JSON document.
/// </summary>
public static class BenchReport
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static JsonObject Build(BenchInputs inputs)
    {
        var copy = Read(inputs.CopyFile);
        var sequential = Read(inputs.SequentialFile);
        var parallel = Read(inputs.ParallelFile);
        var sequentialMemory = Memory(inputs.SequentialRssFile, inputs.SequentialHwmKb);
        var parallelMemory = Memory(inputs.ParallelRssFile, inputs.ParallelHwmKb);

        // The kernel's high-water mark and the samples each lag the other a little (RSS counters are synced in
        // batches): the peak is the larger of all.
        var peakMb = new[] { sequentialMemory, parallelMemory }
            .SelectMany(m => new[] { m["peakRssMb"]!.GetValue<double>(), m["hwmMb"]!.GetValue<double>() }).Max();
        var targets = Targets(copy, sequential, parallel, peakMb);
        targets.AddRange(DeliveryTargets(sequential));
        var report = new JsonObject
        {
            ["startedAt"] = inputs.StartedAt,
            ["quick"] = inputs.Quick,
            ["size"] = Number(sequential, "settings", "size"),
            ["database"] = inputs.Database,
            ["machine"] = new JsonObject { ["processors"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString() },
            ["targets"] = JsonSerializer.SerializeToNode(targets, JsonSerializerOptions.Web),
            ["targetsMet"] = targets.Count(t => t.Met),
            ["targetsMissed"] = targets.Count(t => !t.Met),
            ["copyBaseline"] = copy,
            ["sequential"] = new JsonObject { ["load"] = sequential, ["hostMemory"] = sequentialMemory },
            ["parallel"] = new JsonObject { ["load"] = parallel, ["hostMemory"] = parallelMemory },
            ["hostWebhookLogLines"] = inputs.WebhookLogLines,
        };
        // Read back from its text, every number reads as any numeric type (a node built from an int reads only as int).
        return JsonNode.Parse(report.ToJsonString())!.AsObject();
    }

    static List<TargetRow> Targets(JsonNode copy, JsonNode sequential, JsonNode parallel, double peakMb)
    {
        var size = Number(sequential, "settings", "size");
        var pageSize = Number(sequential, "settings", "pageSize");
        var pages = Number(sequential, "full", "pages");
        var diff = Number(sequential, "settings", "diff");
        var inFlight = Number(parallel, "settings", "inFlight");
        var oneAtATime = Number(sequential, "full", "firstRequestToCommittedSeconds");
        var several = Number(parallel, "full", "firstRequestToCommittedSeconds");
        // The service commits inside the last page's request, so "acknowledged to visible" alone would hide the
        // commit: the figure judged is the last page's request (the commit included) plus acknowledged to visible.
        var diffVisible = Number(sequential, "diff", "lastAckToVisibleSeconds");
        var diffLastPage = Number(sequential, "diff", "lastPageMs") / 1000;
        var diffCommit = diffLastPage + diffVisible;
        var p99 = Number(sequential, "full", "ackLatency", "p99");
        var copySeconds = Number(copy, "seconds");
        var ratio = oneAtATime / copySeconds;

        return
        [
            new($"first full sync of {size:N0} members ({pages:N0} pages of {pageSize:N0}, one after another), first request to committed",
                "≤ 10 s", Seconds(oneAtATime), oneAtATime, oneAtATime <= 10),
            new($"the same with {inFlight} pages in flight", "faster than one at a time",
                $"{Seconds(several)} (one at a time {Seconds(oneAtATime)})", several, several < oneAtATime),
            new(string.Create(C, $"diff of {diff:N0} changes ({Number(sequential, "settings", "entering"):N0} in, {Number(sequential, "settings", "leaving"):N0} out): last page acknowledged to commit visible"),
                "≤ 0.5 s", string.Create(C, $"{diffCommit:F3} s (last page, commit included, {diffLastPage:F3} s + ack to visible {diffVisible:F3} s)"),
                diffCommit, diffCommit <= 0.5),
            new("page acknowledgement latency, one sender", "p99 ≤ 50 ms", string.Create(C, $"p99 {p99:F1} ms"), p99, p99 <= 50),
            new($"host peak resident memory during the {size:N0} runs", "≤ 300 MB", string.Create(C, $"{peakMb:F0} MB"), peakMb, peakMb <= 300),
            new($"end-to-end time ÷ raw binary COPY time of the same {size:N0} rows into an equivalent indexed table", "≤ 3",
                string.Create(C, $"{ratio:F2} ({oneAtATime:F2} s ÷ {copySeconds:F2} s)"), ratio, ratio <= 3),
        ];
    }

    /// <summary>
    /// The delivery figures of the one-at-a-time run (<c>simulate --load --sink</c>): the full sync's entered changes
    /// reaching the sink, the diff's changes each, and page acknowledgements while deliveries ran. None without a sink.
    /// A figure that could not be measured (delivery did not catch up) is missed, its value -1.
    /// </summary>
    static IEnumerable<TargetRow> DeliveryTargets(JsonNode sequential)
    {
        if (sequential["delivery"] is not JsonObject delivery)
            yield break;
        var batch = Number(delivery, "batchSize");
        string NotCaughtUp(JsonNode sync) =>
            string.Create(C, $"only {Number(sync, "held"):N0} of {Number(sync, "changes"):N0} delivered within the wait");

        if (delivery["full"] is JsonObject full)
        {
            var figure = string.Create(C, $"the full sync's {Number(full, "changes"):N0} entered changes reach a local sink in batches of {batch:N0}: commit to last delivered");
            yield return full["commitToLastDeliveredSeconds"] is JsonValue last
                ? new(figure, "≤ 10 s", string.Create(C, $"{last.GetValue<double>():F2} s ({Number(full, "changesPerSecond"):N0} changes/s, {Number(full, "batches"):N0} batches)"),
                    last.GetValue<double>(), last.GetValue<double>() <= 10)
                : new(figure, "≤ 10 s", NotCaughtUp(full), -1, false);
        }
        if (delivery["diff"] is JsonObject diff)
        {
            var figure = string.Create(C, $"diff of {Number(diff, "changes"):N0} changes: commit to the sink holding the change");
            yield return diff["commitToDelivered"] is JsonObject latency
                ? new(figure, "p99 ≤ 1 s", string.Create(C, $"p99 {Number(latency, "p99"):F0} ms (p50 {Number(latency, "p50"):F0} ms)"),
                    Number(latency, "p99") / 1000, Number(latency, "p99") <= 1000)
                : new(figure, "p99 ≤ 1 s", NotCaughtUp(diff), -1, false);
        }
        var samples = Number(delivery, "ackSamples");
        var ackFigure = string.Create(C, $"page acknowledgement latency while deliveries run ({samples:N0} pages of another project's cohort)");
        yield return delivery["ackWhileDelivering"] is JsonObject ack
            ? new(ackFigure, "p99 ≤ 50 ms", string.Create(C, $"p99 {Number(ack, "p99"):F1} ms (p50 {Number(ack, "p50"):F1} ms)"), Number(ack, "p99"), Number(ack, "p99") <= 50)
            : new(ackFigure, "p99 ≤ 50 ms", "no page was sent while deliveries ran", -1, false);
    }

    public static void WriteText(JsonObject report, TextWriter w)
    {
        var sequential = report["sequential"]!["load"]!;
        var parallel = report["parallel"]!["load"]!;
        var size = Number(report, "size");
        w.WriteLine(string.Create(C,
            $"bench: {size:N0} members, pages of {Number(sequential, "settings", "pageSize"):N0}, diff {Number(sequential, "settings", "diff"):N0}; "
            + $"database {report["database"]}; {report["startedAt"]}"));
        if (report["quick"]!.GetValue<bool>())
            w.WriteLine("(--quick: the targets are set for 1,000,000 members; at this size met/missed only indicates)");
        w.WriteLine();

        var targets = report["targets"]!.AsArray()
            .Select(t => new[] { t!["figure"]!.ToString(), t["target"]!.ToString(), t["measured"]!.ToString(), t["met"]!.GetValue<bool>() ? "met" : "MISSED" })
            .ToList();
        Table(w, ["figure", "target", "measured", ""], targets);
        w.WriteLine();

        string[] Sync(string name, JsonNode load, string sync) =>
        [
            name, Format(load, "F1", sync, "pagesPerSecond"), Format(load, "N0", sync, "membersPerSecond"), Format(load, "F2", sync, "pushSeconds"),
            $"{Format(load, "F3", sync, "lastAckToVisibleSeconds")} ({Reads(Number(load, sync, "readsUntilVisible"))})",
            Format(load, "F2", sync, "firstRequestToCommittedSeconds"),
            $"{Format(load, "F1", sync, "ackLatency", "p50")} / {Format(load, "F1", sync, "ackLatency", "p95")} / "
            + $"{Format(load, "F1", sync, "ackLatency", "p99")} / {Format(load, "F1", sync, "ackLatency", "max")}",
            Format(load, "F1", sync, "lastPageMs"),
        ];
        var copy = report["copyBaseline"]!;
        Table(w, ["sync", "pages/s", "members/s", "push s", "last ack → visible s", "first request → committed s", "ack p50 / p95 / p99 / max ms", "last page ms"],
        [
            Sync($"full, 1 in flight ({Number(sequential, "full", "pages"):N0} pages)", sequential, "full"),
            Sync($"full, {Number(parallel, "settings", "inFlight")} in flight ({Number(parallel, "full", "pages"):N0} pages)", parallel, "full"),
            Sync($"diff, 1 in flight ({Number(sequential, "diff", "pages"):N0} pages)", sequential, "diff"),
            ["raw binary COPY", "", Format(copy, "N0", "rowsPerSecond"), Format(copy, "F2", "seconds"), "", "", "", ""],
        ]);
        w.WriteLine();

        string Memory(string run) =>
            string.Create(C, $"peak sampled VmRSS {Number(report, run, "hostMemory", "peakRssMb"):F0} MB ({Number(report, run, "hostMemory", "samples"):N0} samples), "
                             + $"VmHWM {Number(report, run, "hostMemory", "hwmMb"):F0} MB");
        w.WriteLine($"host memory    one at a time: {Memory("sequential")}; {Number(parallel, "settings", "inFlight")} in flight: {Memory("parallel")} (VmHWM is since the host started)");
        w.WriteLine($"verification   one at a time: {Verdict(sequential)}; {Number(parallel, "settings", "inFlight")} in flight: {Verdict(parallel)}");
        w.WriteLine($"host log       {report["hostWebhookLogLines"]} webhook request lines (turned down to Warning)");
        w.WriteLine($"targets        {report["targetsMet"]} met, {report["targetsMissed"]} missed");
    }

    static string Verdict(JsonNode load)
    {
        var v = load["verification"]!;
        return string.Create(C, $"{Number(v, "foundCount"):N0} members (expected {Number(v, "expectedCount"):N0}), "
                                + $"{Number(v, "sampled")} looked up, {v["wrong"]!.AsArray().Count} wrong -> {(v["passed"]!.GetValue<bool>() ? "passed" : "FAILED")}");
    }

    static JsonObject Memory(string rssFile, long hwmKb)
    {
        var samples = File.ReadLines(rssFile).Where(l => l.Length > 0).Select(l => long.Parse(l, C)).ToList();
        return new JsonObject
        {
            ["samples"] = samples.Count,
            ["peakRssMb"] = samples.Count == 0 ? 0.0 : samples.Max() / 1024.0,
            ["hwmMb"] = hwmKb / 1024.0,
        };
    }

    static void Table(TextWriter w, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((cell, i) => cell.PadRight(widths[i]))) + " |";
        w.WriteLine(Line(header));
        w.WriteLine("|" + string.Join("|", widths.Select(width => new string('-', width + 2))) + "|");
        foreach (var row in rows)
            w.WriteLine(Line(row));
    }

    static JsonNode Read(string file) =>
        JsonNode.Parse(File.ReadAllText(file)) ?? throw new InvalidOperationException($"{file} holds no JSON");

    static double Number(JsonNode node, params string[] path)
    {
        var at = node;
        foreach (var name in path)
            at = at[name] ?? throw new InvalidOperationException($"no {string.Join(".", path)} in the figures");
        return at.GetValue<double>();
    }

    static string Format(JsonNode node, string format, params string[] path) => Number(node, path).ToString(format, C);

    static string Reads(double reads) => reads == 1 ? "1 read" : string.Create(C, $"{reads:N0} reads");

    static string Seconds(double seconds) => seconds.ToString("F2", C) + " s";
}
