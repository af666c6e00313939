using System.Text.Json;
using System.Text.Json.Nodes;
using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Simulate.Bench;

namespace CohortSync.Host.Tests.Bench;

/// <summary>bench-console against a running host, and its figures as rows of the bench report's targets.</summary>
[Collection(HostCollection.Name)]
public sealed class ConsoleTimingTests(HostFixture fx)
{
    [Fact]
    public async Task The_console_timings_are_measured_and_join_the_reports_targets()
    {
        // Sorted before the tests' own "p-" projects, so that the first page of /v1/cohorts holds it.
        var large = new TestCohort($"bench-timing-{Guid.NewGuid():N}"[..24], "large");
        await fx.Client.PostOkAsync(large.Members("s1", 1, 1, Users.Ids("u", 50)));
        var file = Path.GetTempFileName();
        try
        {
            var output = new StringWriter();
            var exit = await BenchCommands.RunAsync(
                ["bench-console", "--url", fx.A.BaseAddress.ToString(), "--cohorts", "3", "--large-project", large.Project, "--json", file],
                output, TextWriter.Null);
            Assert.True(exit == 0, output.ToString());
            Assert.Contains($"console page of cohort {large.Project}/large (50 members)", output.ToString());

            var figures = JsonSerializer.Deserialize<ConsoleFigures>(await File.ReadAllTextAsync(file), JsonSerializerOptions.Web)!;
            Assert.True(figures.OverviewMedianMs > 0 && figures.CohortPageMedianMs > 0);
            var report = new JsonObject { ["targets"] = new JsonArray(), ["targetsMet"] = 0, ["targetsMissed"] = 0 };
            ConsoleTiming.AddTo(report, figures);

            var rows = report["targets"]!.AsArray();
            Assert.Equal(["console overview with 3 more small cohorts", $"console page of cohort {large.Project}/large (50 members)"],
                rows.Select(r => r!["figure"]!.GetValue<string>()));
            Assert.All(rows, r => Assert.Equal("≤ 200 ms server time", r!["target"]!.GetValue<string>()));
            Assert.Equal(figures.CohortPageP95Ms, rows[1]!["value"]!.GetValue<double>());
            Assert.Equal(2, report["targetsMet"]!.GetValue<int>() + report["targetsMissed"]!.GetValue<int>());
            Assert.Equal(50, report["console"]!["largeCohortMembers"]!.GetValue<long>());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
