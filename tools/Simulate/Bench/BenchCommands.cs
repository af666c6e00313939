using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CohortSync.Simulate.Bench;

/// <summary>
/// The benchmark subcommands bench/run calls: <c>copy-baseline</c>, <c>bench-report</c> and
/// <c>bench-drop-database</c>. The first and last use the service's own configuration to find its database
/// (arguments they do not know are read as configuration, <c>--LocalPostgres:Database=...</c>).
/// </summary>
public static class BenchCommands
{
    /// <summary>bench/run's databases are named so; nothing else is ever dropped.</summary>
    public const string DatabasePrefix = "cohortsync_bench_";

    public static readonly string[] Names = ["copy-baseline", "bench-report", "bench-drop-database", "bench-console"];

    static readonly JsonSerializerOptions OneLine = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("CohortSync's benchmark tools (bench/run)") { CopyBaselineCommand(output, error), ReportCommand(output), DropCommand(error), ConsoleCommand(output) };
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }

    static Command CopyBaselineCommand(TextWriter output, TextWriter error)
    {
        var size = new Option<int>("--size") { Description = "Members to COPY (users 0 .. size-1 of simulate)", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("copy-baseline", "Times a raw binary COPY of the members a load run sends into a fresh keyed table; prints one JSON line")
        {
            size,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, ct) =>
        {
            if (parsed.GetValue(size) is < 1 or > 10_000_000)
            {
                await error.WriteLineAsync("copy-baseline: --size must be between 1 and 10000000");
                return 2;
            }
            var connectionString = await ServiceDatabase.ConnectionStringAsync(ServiceDatabase.Configuration([.. parsed.UnmatchedTokens]), error);
            var figures = await CopyBaseline.RunAsync(connectionString, parsed.GetValue(size), ct);
            await output.WriteLineAsync(JsonSerializer.Serialize(figures, OneLine));
            return 0;
        });
        return command;
    }

    static Command ConsoleCommand(TextWriter output)
    {
        var url = new Option<string>("--url") { Description = "The service's base URL (http://127.0.0.1:PORT)", Required = true };
        var cohorts = new Option<int>("--cohorts") { Description = "Small cohorts to add before timing the overview", DefaultValueFactory = _ => 1000 };
        var large = new Option<string>("--large-project") { Description = "The project whose largest cohort's page is timed", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this file" };
        var command = new Command("bench-console", "Adds small cohorts through the webhook, then times the console's overview and a large cohort's page")
        {
            url, cohorts, large, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var figures = await ConsoleTiming.RunAsync(new Uri(parsed.GetValue(url)!), parsed.GetValue(cohorts), parsed.GetValue(large)!, ct);
            ConsoleTiming.WriteText(figures, output);
            if (parsed.GetValue(json) is { } path)
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(figures, OneLine), ct);
            return 0;
        });
        return command;
    }

    static Command DropCommand(TextWriter error)
    {
        var command = new Command("bench-drop-database", $"Drops the configured database, which must be named {DatabasePrefix}*");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, _) =>
        {
            var connectionString = await ServiceDatabase.ConnectionStringAsync(ServiceDatabase.Configuration([.. parsed.UnmatchedTokens]), error);
            await ServiceDatabase.DropBenchDatabaseAsync(connectionString, error);
            return 0;
        });
        return command;
    }

    static Command ReportCommand(TextWriter output)
    {
        Option<string> File(string name, string description) => new(name) { Description = description, Required = true };
        var started = File("--started", "When the run started (UTC)");
        var database = File("--database", "The benchmark's database");
        var quick = new Option<bool>("--quick") { Description = "The run was bench/run --quick" };
        var copy = File("--copy", "copy-baseline's JSON line");
        var sequential = File("--sequential", "simulate --load --json of the one-at-a-time run (with its diff)");
        var sequentialRss = File("--sequential-rss", "The host's VmRSS in kB during that run, one sample a line");
        var sequentialHwm = new Option<long>("--sequential-hwm-kb") { Description = "The host's VmHWM after that run", Required = true };
        var parallel = File("--parallel", "simulate --load --json of the run with pages in flight");
        var parallelRss = File("--parallel-rss", "The host's VmRSS in kB during that run");
        var parallelHwm = new Option<long>("--parallel-hwm-kb") { Description = "The host's VmHWM after that run", Required = true };
        var logLines = new Option<long>("--webhook-log-lines") { Description = "Webhook request lines in the host's log", DefaultValueFactory = _ => 0 };
        var console = new Option<string?>("--console") { Description = "bench-console --json of the console's timings: added to the targets and the figures" };
        var outputs = new Option<string[]>("--out") { Description = "Write the report's JSON here (repeatable)", Required = true, AllowMultipleArgumentsPerToken = false };

        var command = new Command("bench-report", "Prints the benchmark's targets table from bench/run's measurements and writes them all as JSON")
        {
            started, database, quick, copy, sequential, sequentialRss, sequentialHwm, parallel, parallelRss, parallelHwm, logLines, console, outputs,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var report = BenchReport.Build(new BenchInputs(
                parsed.GetValue(started)!, parsed.GetValue(database)!, parsed.GetValue(quick), parsed.GetValue(copy)!,
                parsed.GetValue(sequential)!, parsed.GetValue(sequentialRss)!, parsed.GetValue(sequentialHwm),
                parsed.GetValue(parallel)!, parsed.GetValue(parallelRss)!, parsed.GetValue(parallelHwm),
                parsed.GetValue(logLines)));
            if (parsed.GetValue(console) is { } consoleFile)
                ConsoleTiming.AddTo(report, JsonSerializer.Deserialize<ConsoleFigures>(await System.IO.File.ReadAllTextAsync(consoleFile, ct), JsonSerializerOptions.Web)!);
            BenchReport.WriteText(report, output);
            // ≤ and ÷ as they are, not \u escapes: the file is read by people too.
            var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            foreach (var path in parsed.GetValue(outputs)!)
                await System.IO.File.WriteAllTextAsync(path, json, ct);
            return 0;
        });
        return command;
    }
}
