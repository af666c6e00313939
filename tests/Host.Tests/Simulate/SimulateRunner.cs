using System.Text.Json;
using CohortSync.Simulate;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>One <c>simulate</c> command run in-process: its exit code, what it printed, and its JSON summary.</summary>
public sealed record SimulateResult(int ExitCode, string Output, string Error, JsonElement? Summary)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

public static class SimulateRunner
{
    /// <summary>Runs <c>simulate</c> with <paramref name="args"/> (plus <c>--json</c>), the environment given.</summary>
    public static async Task<SimulateResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var json = Path.Combine(Path.GetTempPath(), $"simulate-{Guid.NewGuid():N}.json");
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var exit = await SimulateCommand.RunAsync(
                [.. args, "--json", json], output, error, name => environment?.GetValueOrDefault(name));
            JsonElement? summary = File.Exists(json) ? JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.Clone() : null;
            return new SimulateResult(exit, output.ToString(), error.ToString(), summary);
        }
        finally
        {
            File.Delete(json);
        }
    }

    public static string WebhookUrl(this Infrastructure.RunningHost host) => new Uri(host.BaseAddress, "webhook").ToString();

    /// <summary>A project id of the test's own: cohort ids repeat with the seed, projects keep tests apart.</summary>
    public static string NewProject(string label) => $"p-sim-{label}-{Guid.NewGuid().ToString("N")[..8]}";
}
