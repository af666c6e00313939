using System.CommandLine;

namespace CohortSync.Simulate;

/// <summary>
/// <c>simulate [options]</c>: plays Mixpanel against a running service and checks that it converged.
/// System.CommandLine parses the syntax (types, unknown options, <c>--help</c>); <see cref="SimulateOptionsReader"/>
/// checks the meaning (ranges, URLs, credentials) and reports every problem at once.
/// </summary>
public static class SimulateCommand
{
    public const string PasswordVariable = "COHORTSYNC_SIMULATE_PASSWORD";

    /// <summary>Runs the command in-process; returns the exit code (<see cref="ExitCodes"/>).</summary>
    /// <param name="args">The options after <c>simulate</c>.</param>
    /// <param name="output">The summary.</param>
    /// <param name="error">Progress lines and problems.</param>
    /// <param name="environment">Reads environment variables (tests pass their own).</param>
    /// <param name="ct">Stops the run.</param>
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Func<string, string?>? environment = null, CancellationToken ct = default)
    {
        output = TextWriter.Synchronized(output);
        error = TextWriter.Synchronized(error);
        var options = new SimulateOptionsReader();
        var simulate = new Command("simulate", "Plays Mixpanel's cohort syncs against a running CohortSync, through a faulty network, and checks the result.");
        foreach (var option in options.All)
            simulate.Options.Add(option);
        var root = new RootCommand("CohortSync") { simulate };

        simulate.SetAction(async (parsed, cancel) =>
        {
            var problems = new List<string>();
            var read = options.Read(parsed, environment ?? Environment.GetEnvironmentVariable, problems);
            if (read is null)
            {
                foreach (var problem in problems)
                    await error.WriteLineAsync($"simulate: {problem}");
                await error.WriteLineAsync("simulate: see --help");
                return ExitCodes.BadOptions;
            }
            return read.Load
                ? await Load.LoadRun.RunAsync(read, output, error, cancel)
                : await RunSimulationAsync(read, output, error, cancel);
        });

        var parseResult = root.Parse(["simulate", .. args]);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var problem in parseResult.Errors)
                await error.WriteLineAsync($"simulate: {problem.Message}");
            await error.WriteLineAsync("simulate: see --help");
            return ExitCodes.BadOptions;
        }

        // --help exits 0; a run exits with its own code. An unexpected exception is not turned into exit code 1,
        // which means "diverged".
        var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        return await parseResult.InvokeAsync(invocation, ct);
    }

    static async Task<int> RunSimulationAsync(SimulateOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        SimulationRun run;
        try
        {
            run = await Simulation.RunAsync(options, error, ct);
        }
        catch (Sink.DestinationApiException e)
        {
            await error.WriteLineAsync($"simulate: the sink's destination: {e.Message}");
            return ExitCodes.NotChecked;
        }
        var summary = run.Summary;
        if (!options.Quiet)
            summary.WriteText(output);
        else if (summary.ExitCode != ExitCodes.Converged)
            summary.WriteText(error);

        if (options.JsonPath is { } path && !await TryWriteJsonAsync(path, summary.ToJson(), error, ct))
            return ExitCodes.WithSummaryNotWritten(summary.ExitCode);
        return summary.ExitCode;
    }

    /// <summary>Writes the JSON summary; false, said on <paramref name="error"/>, when the file cannot be written
    /// (checked before the run, but a disk fills up and a folder goes away).</summary>
    internal static async Task<bool> TryWriteJsonAsync(string path, string json, TextWriter error, CancellationToken ct)
    {
        try
        {
            await File.WriteAllTextAsync(path, json, ct);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"simulate: could not write the summary to {path}: {e.Message}");
            return false;
        }
    }
}
