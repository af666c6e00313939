using CohortSync.Host.Database;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Tests;

/// <summary>What a large commit leaves behind for the next one, and how the host connects for its page statements.</summary>
[Collection(HostCollection.Name)]
public sealed class BulkCommitTests(HostFixture fx)
{
    /// <summary>
    /// A commit of 50,000 changes or more refreshes the planner's statistics right after it (committed behind, by the
    /// committer), so that a diff arriving next is not planned on the table as it was (CommitSql.RefreshStatisticsAsync).
    /// </summary>
    [Fact]
    public async Task A_large_commit_leaves_fresh_statistics_and_the_next_diff_applies()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Retention:Enabled"] = "false" }, database);
        var c = TestCohort.New("bulk");
        var ids = Enumerable.Range(0, 50_000).Select(i => $"u{i:D6}").ToList();
        await using var connection = new NpgsqlConnection(database);
        var analyzedBefore = await connection.ExecuteScalarAsync<DateTime?>(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'membership'");

        foreach (var page in c.FullSync("full", ids, 1_000))
            await host.Client.PostOkAsync(page);
        await Db.WaitForSessionStateAsync(database, c, "full", "committed");

        Assert.Null(analyzedBefore);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await connection.ExecuteScalarAsync<DateTime?>("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'membership'") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "membership was not analyzed after the large commit");
            await Task.Delay(50);
        }
        Assert.True(await connection.ExecuteScalarAsync<float>("SELECT reltuples FROM pg_class WHERE relname = 'membership'") >= 49_000);

        await host.Client.PostOkAsync(c.Add("diff", 1, 1, "new-1", "new-2"));
        await host.Client.PostOkAsync(c.Remove("diff", 1, 1, "u000000", "u049999", "new-2"));
        var members = await host.Client.MemberIdsAsync(c);
        Assert.Equal(49_999, members.Length);
        Assert.Contains("new-1", members);
        Assert.DoesNotContain("new-2", members);
        Assert.DoesNotContain("u000000", members);
    }

    [Fact]
    public void Page_statements_are_prepared_and_planned_per_execution_unless_the_connection_string_says_otherwise()
    {
        var applied = new NpgsqlConnectionStringBuilder(AutoPrepare.Apply("Host=db;Options=-c statement_timeout=0"));
        Assert.Equal(32, applied.MaxAutoPrepare);
        Assert.Equal("-c plan_cache_mode=force_custom_plan -c statement_timeout=0", applied.Options);

        const string off = "Host=db;Max Auto Prepare=0";
        Assert.Equal(off, AutoPrepare.Apply(off));
        const string chosen = "Host=db;MaxAutoPrepare=5";
        Assert.Equal(chosen, AutoPrepare.Apply(chosen));
    }
}
