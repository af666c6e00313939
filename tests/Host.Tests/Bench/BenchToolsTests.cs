using System.Text.Json;
using CohortSync.Simulate.Bench;
using CohortSync.Host.Database;
using CohortSync.Simulate;
using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Host.Tests.Simulate;
using Dapper;

namespace CohortSync.Host.Tests.Bench;

/// <summary>The benchmark subcommands that bench/run strings together: the COPY floor, the report, the clean-up.</summary>
[Collection(HostCollection.Name)]
public sealed class BenchToolsTests(HostFixture fx)
{
    [Fact]
    public async Task The_copy_baseline_copies_every_row_and_leaves_no_table_behind()
    {
        var figures = await CopyBaseline.RunAsync(fx.ConnectionString, 2_000);

        Assert.Equal(2_000, figures.Rows);
        Assert.True(figures.Seconds > 0);
        await using var db = fx.OpenDatabase();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'copy_baseline_%'"));
    }

    [Fact]
    public async Task The_report_prints_every_target_and_writes_the_figures()
    {
        var work = Directory.CreateTempSubdirectory("bench-report-test").FullName;
        try
        {
            async Task Load(string name, string inFlight, string diff)
            {
                var exit = await SimulateCommand.RunAsync(
                [
                    "--load", "--quiet", "--url", fx.A.WebhookUrl(), "--project", SimulateRunner.NewProject(name), "--size", "1000",
                    "--page-size", "100", "--in-flight", inFlight, "--diff", diff, "--json", Path.Combine(work, $"{name}.json"),
                ], TextWriter.Null, TextWriter.Null);
                Assert.Equal(0, exit);
                await File.WriteAllTextAsync(Path.Combine(work, $"{name}.rss"), "100000\n120000\n");
            }
            await Load("sequential", "1", "200");
            await Load("parallel", "4", "0");
            var copy = await CopyBaseline.RunAsync(fx.ConnectionString, 1_000);
            await File.WriteAllTextAsync(Path.Combine(work, "copy.json"), JsonSerializer.Serialize(copy, JsonSerializerOptions.Web));

            var output = new StringWriter();
            var exitCode = await BenchCommands.RunAsync(
            [
                "bench-report", "--started", "2026-11-27T00:00:00Z", "--database", "cohortsync_bench_test", "--quick",
                "--copy", Path.Combine(work, "copy.json"),
                "--sequential", Path.Combine(work, "sequential.json"), "--sequential-rss", Path.Combine(work, "sequential.rss"), "--sequential-hwm-kb", "130000",
                "--parallel", Path.Combine(work, "parallel.json"), "--parallel-rss", Path.Combine(work, "parallel.rss"), "--parallel-hwm-kb", "140000",
                "--out", Path.Combine(work, "report.json"), "--out", Path.Combine(work, "latest.json"),
            ], output, TextWriter.Null);

            Assert.True(exitCode == 0, output.ToString());
            var text = output.ToString();
            Assert.Contains("| first full sync of 1,000 members (10 pages of 100, one after another), first request to committed | ≤ 10 s", text);
            Assert.Contains("| the same with 4 pages in flight", text);
            // The peak is the larger of the samples and the high-water marks: 140,000 kB.
            Assert.Contains("| host peak resident memory during the 1,000 runs", text);
            Assert.Contains("| 137 MB", text);
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(work, "report.json")));
            Assert.Equal(6, report.RootElement.GetProperty("targets").GetArrayLength());
            Assert.Equal(1_000, report.RootElement.GetProperty("copyBaseline").GetProperty("rows").GetInt32());
            Assert.True(report.RootElement.GetProperty("sequential").GetProperty("load").GetProperty("verification").GetProperty("passed").GetBoolean());
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(work, "report.json")), await File.ReadAllTextAsync(Path.Combine(work, "latest.json")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Only_a_benchmark_database_is_ever_dropped()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceDatabase.DropBenchDatabaseAsync(fx.ConnectionString, TextWriter.Null));

        var name = $"{BenchCommands.DatabasePrefix}test_{Guid.NewGuid():N}";
        var bench = await LocalPostgres.EnsureStartedAsync(new LocalPostgresOptions(), name, _ => { });
        await ServiceDatabase.DropBenchDatabaseAsync(bench, TextWriter.Null);

        await using var server = new Npgsql.NpgsqlConnection(fx.ServerConnectionString);
        Assert.Equal(0, await server.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_database WHERE datname = @name", new { name }));
        await using var db = fx.OpenDatabase();
        Assert.Equal(1, await db.ExecuteScalarAsync<long>("SELECT 1"));
    }
}
