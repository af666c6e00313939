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

    /// <summary>
    /// A commit's transitions are recorded in distinct-id order (byte-wise), in chunks of up to 1,000 numbered from 0,
    /// each with its greatest id as last_id, which the feed seeks on. Tens of thousands of changes, so that the sorted
    /// changes are cut into chunks in more than one step.
    /// </summary>
    [Fact]
    public async Task A_commits_transitions_are_chunks_of_up_to_1000_in_distinct_id_order()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Retention:Enabled"] = "false" }, database);
        var c = TestCohort.New("chunks");
        // "u10" sorts before "u2": every page's ids interleave with the others'.
        var first = Enumerable.Range(0, 40_500).Select(i => $"u{i}").ToList();
        var second = Enumerable.Range(20_000, 40_500).Select(i => $"u{i}").ToList();

        foreach (var page in c.FullSync("one", first, 1_000))
            await host.Client.PostOkAsync(page);
        await Db.WaitForSessionStateAsync(database, c, "one", "committed");
        foreach (var page in c.FullSync("two", second, 1_000))
            await host.Client.PostOkAsync(page);
        await Db.WaitForSessionStateAsync(database, c, "two", "committed");

        await AssertChunksAsync(database, c, "one", first.Select(id => (id, "entered")));
        await AssertChunksAsync(database, c, "two",
            first.Except(second).Select(id => (id, "exited")).Concat(second.Except(first).Select(id => (id, "entered"))));
    }

    // Settable properties: Dapper matches a constructor on the columns' declared types, and an array column's is Array.
    sealed class Chunk
    {
        public int chunk { get; init; }
        public string last_id { get; init; } = "";
        public string[] distinct_ids { get; init; } = [];
        public string[] kinds { get; init; } = [];
    }

    static async Task AssertChunksAsync(string database, TestCohort c, string session, IEnumerable<(string Id, string Kind)> changes)
    {
        await using var connection = new NpgsqlConnection(database);
        var chunks = (await connection.QueryAsync<Chunk>(
            """
            SELECT ch.chunk, ch.last_id, ch.distinct_ids, ch.kinds
            FROM transition_chunk ch
            JOIN sync_session s ON s.session_key = ch.session_key
            JOIN cohort c ON c.cohort_key = s.cohort_key
            WHERE c.project_id = @project AND c.cohort_id = @cohort AND s.session_id = @session
            ORDER BY ch.chunk
            """, new { project = c.Project, cohort = c.Cohort, session })).ToList();
        var expected = changes.OrderBy(t => t.Id, StringComparer.Ordinal).ToList();

        Assert.Equal(Enumerable.Range(0, (expected.Count + 999) / 1_000), chunks.Select(ch => ch.chunk));
        Assert.All(chunks.SkipLast(1), ch => Assert.Equal(1_000, ch.distinct_ids.Length));
        Assert.All(chunks, ch => Assert.Equal(ch.distinct_ids[^1], ch.last_id));
        Assert.Equal(expected.Select(t => t.Id), chunks.SelectMany(ch => ch.distinct_ids));
        Assert.Equal(expected.Select(t => t.Kind), chunks.SelectMany(ch => ch.kinds));
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
