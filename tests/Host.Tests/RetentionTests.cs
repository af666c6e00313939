using System.Text.Json;
using CohortSync.Host.Retention;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;

namespace CohortSync.Host.Tests;

/// <summary>
/// A retention pass deletes exactly what is due, and nothing of a cohort's newest committed session or
/// of an open session within its grace period. A database of its own (and a host that runs no pass by
/// itself), with timestamps moved back in SQL; defaults: 30 days for sessions, transitions and
/// rejections, 24 hours for an open session, 60 minutes for an unclaimed upload.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class RetentionTests(HostFixture fx)
{
    static readonly TimeSpan Days40 = TimeSpan.FromDays(40);

    async Task<(RunningHost Host, string Database)> StartAsync()
    {
        var database = await fx.CreateDatabaseAsync();
        var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Retention:Enabled"] = "false" }, database);
        return (host, database);
    }

    /// <summary>Moves a session's times (and, if asked, its transitions') back by <paramref name="age"/>.</summary>
    static Task AgeSessionAsync(string database, TestCohort c, string session, TimeSpan age, bool transitionsToo = true) =>
        Db.ExecuteAsync(database,
            """
            WITH s AS (
                SELECT s.session_key FROM sync_session s JOIN cohort c ON c.cohort_key = s.cohort_key
                WHERE c.project_id = @Project AND c.cohort_id = @Cohort AND s.session_id = @session
            ), moved AS (
                UPDATE sync_session x
                SET first_page_at = first_page_at - @age, last_page_at = last_page_at - @age, committed_at = committed_at - @age
                FROM s WHERE x.session_key = s.session_key
            )
            UPDATE transition_chunk t SET recorded_at = recorded_at - @age FROM s WHERE @transitionsToo AND t.session_key = s.session_key
            """,
            new { c.Project, c.Cohort, session, age, transitionsToo });

    static async Task<(string, string, string?)[]> SessionsAsync(string database, TestCohort c) =>
        (await Db.SessionsAsync(database, c)).Select(s => (s.session_id, s.state, s.superseded_by_id)).ToArray();

    static async Task<string[]> TransitionsAsync(string database, TestCohort c) =>
        (await Db.TransitionsAsync(database, c)).Select(t => t.ToString()).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_pass_deletes_exactly_what_is_due()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        var client = host.Client;

        // A: two old full syncs, an old superseded diff, and the newest committed session (recent).
        var a = TestCohort.New("ret-a");
        await client.PostOkAsync(a.Members("s1", 1, 1, "a", "b"));
        await client.PostOkAsync(a.Members("s2", 1, 1, "a", "b", "c"));
        await client.PostOkAsync(a.Add("s3", 1, 1, "d"));
        await client.PostOkAsync(a.Add("s4", 1, 1, "e"));
        await client.PostOkAsync(a.Remove("s4", 1, 1, "a"));
        await AgeSessionAsync(database, a, "s1", Days40);
        await AgeSessionAsync(database, a, "s2", TimeSpan.FromDays(35));
        await AgeSessionAsync(database, a, "s3", Days40);
        var deletedKeys = (await Db.SessionsAsync(database, a)).Where(s => s.session_id != "s4").Select(s => s.session_key).ToArray();

        // B: its only committed session is old (kept: it is the newest), and an open session an hour old.
        var b = TestCohort.New("ret-b");
        await client.PostOkAsync(b.Members("s1", 1, 1, "x"));
        await client.PostOkAsync(b.Members("s2", 1, 2, "y"));
        await AgeSessionAsync(database, b, "s1", Days40);
        await AgeSessionAsync(database, b, "s2", TimeSpan.FromHours(2));

        // C: a recent commit, and an open session whose last page came 30 hours ago: abandoned.
        var c = TestCohort.New("ret-c");
        await client.PostOkAsync(c.Members("s1", 1, 1, "p"));
        await client.PostOkAsync(c.Members("s2", 1, 2, "q", "r"));
        await AgeSessionAsync(database, c, "s1", TimeSpan.FromDays(10));
        await AgeSessionAsync(database, c, "s2", TimeSpan.FromHours(30));

        // D: an old session whose transitions are recent (kept until they go), and a newer commit.
        var d = TestCohort.New("ret-d");
        await client.PostOkAsync(d.Members("s1", 1, 1, "m"));
        await client.PostOkAsync(d.Members("s2", 1, 1, "m", "n"));
        await AgeSessionAsync(database, d, "s1", Days40, transitionsToo: false);

        // Staged pages no page record claims (2 hours, and just now).
        await Db.ExecuteAsync(database,
            """
            INSERT INTO staged_page (upload_id, distinct_ids, properties, staged_at) VALUES
                (nextval('upload_id_seq'), '{unclaimed-old}', '{"{}"}', now() - interval '2 hours'),
                (nextval('upload_id_seq'), '{unclaimed-new}', '{"{}"}', now());
            INSERT INTO rejected_request (received_at, status, reason, message) VALUES
                (now() - interval '40 days', 400, 'invalid_body', 'old'),
                (now() - interval '29 days', 400, 'invalid_body', 'recent');
            """);

        var pass = host.App.Services.GetRequiredService<RetentionPass>();
        var report = await pass.RunAsync(CancellationToken.None);

        // C's abandoned session goes with its 2 staged members.
        Assert.Equal(new RetentionReport(AbandonedSessions: 1, StagedMembers: 2, UnclaimedStagedMembers: 1, Transitions: 4, Sessions: 3, Rejections: 1), report);

        Assert.Equal([("s4", "committed", null)], await SessionsAsync(database, a));
        Assert.Equal(["s4:entered:e", "s4:exited:a"], await TransitionsAsync(database, a));
        Assert.Equal(["b", "c", "e"], await client.MemberIdsAsync(a));

        Assert.Equal([("s1", "committed", null), ("s2", "open", null)], await SessionsAsync(database, b));
        Assert.Empty(await TransitionsAsync(database, b));
        Assert.Equal(1, await Db.StagedMembersAsync(database, b, "s2"));

        Assert.Equal([("s1", "committed", null), ("s2", "superseded", null)], await SessionsAsync(database, c));
        Assert.Equal(0, await Db.StagedMembersAsync(database, c, "s2"));

        Assert.Equal([("s1", "committed", null), ("s2", "committed", null)], await SessionsAsync(database, d));
        Assert.Equal(["s1:entered:m", "s2:entered:n"], await TransitionsAsync(database, d));

        await using var connection = new NpgsqlConnection(database);
        Assert.Equal(["unclaimed-new"], await connection.QueryAsync<string>(
            "SELECT sp.distinct_ids[1] FROM staged_page sp WHERE sp.distinct_ids[1] IN ('unclaimed-old', 'unclaimed-new')"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT (SELECT count(*) FROM session_page WHERE session_key = ANY(@deletedKeys)) + (SELECT count(*) FROM session_action WHERE session_key = ANY(@deletedKeys))",
            new { deletedKeys }));
        Assert.Equal(["recent"], await connection.QueryAsync<string>("SELECT message FROM rejected_request"));

        // The abandoned session's late page is acknowledged and changes nothing; B's open session still commits whole.
        await client.PostOkAsync(c.Members("s2", 2, 2, "s"));
        Assert.Equal(["p"], await client.MemberIdsAsync(c));
        await client.PostOkAsync(b.Members("s2", 2, 2, "z"));
        Assert.Equal(["y", "z"], await client.MemberIdsAsync(b));

        // B's old session is no longer its newest committed one: the next pass deletes it, and then nothing is due.
        Assert.Equal(new RetentionReport(0, 0, 0, 0, Sessions: 1, 0), await pass.RunAsync(CancellationToken.None));
        Assert.Equal([("s2", "committed", null)], await SessionsAsync(database, b));
        Assert.Equal(new RetentionReport(0, 0, 0, 0, 0, 0), await pass.RunAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_member_whose_entering_session_retention_deleted_is_still_a_member()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        var c = TestCohort.New("ret-member");
        await host.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        await host.Client.PostOkAsync(c.Add("s2", 1, 1, "b"));
        await host.Client.PostOkAsync(c.Remove("s2", 1, 1));
        await AgeSessionAsync(database, c, "s1", Days40);

        var report = await host.App.Services.GetRequiredService<RetentionPass>().RunAsync(CancellationToken.None);
        Assert.Equal(1, report?.Sessions);

        Assert.Equal(["a", "b"], await host.Client.MemberIdsAsync(c));
        var a = await host.Client.GetOkAsync(PathOf("v1", "cohorts", c.Project, c.Cohort, "members", "a"));
        Assert.True(a.GetProperty("member").GetBoolean());
        Assert.Equal(JsonValueKind.Null, a.GetProperty("enteredInSession").ValueKind);
        Assert.Equal("s2", (await host.Client.GetOkAsync(PathOf("v1", "cohorts", c.Project, c.Cohort, "members", "b"))).Text("enteredInSession"));
    }

    /// <summary>
    /// A session's times are taken at the start of its transactions, so a superseded session can seem to
    /// finish after the session that superseded it: that one must not go first (its row is referenced).
    /// </summary>
    [Fact]
    public async Task A_session_goes_only_once_the_session_it_superseded_has_gone()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        var c = TestCohort.New("ret-superseder");
        await host.Client.PostOkAsync(c.Members("A", 1, 2, "a"));
        await host.Client.PostOkAsync(c.Members("B", 1, 1, "b"));
        await host.Client.PostOkAsync(c.Members("C", 1, 1, "c"));
        await AgeSessionAsync(database, c, "B", Days40);
        await AgeSessionAsync(database, c, "A", TimeSpan.FromDays(29));
        var pass = host.App.Services.GetRequiredService<RetentionPass>();

        Assert.Equal(0, (await pass.RunAsync(CancellationToken.None))?.Sessions);
        Assert.Equal([("A", "superseded", "B"), ("B", "committed", null), ("C", "committed", null)], await SessionsAsync(database, c));

        await AgeSessionAsync(database, c, "A", TimeSpan.FromDays(11));
        Assert.Equal(1, (await pass.RunAsync(CancellationToken.None))?.Sessions);
        Assert.Equal(1, (await pass.RunAsync(CancellationToken.None))?.Sessions);
        Assert.Equal([("C", "committed", null)], await SessionsAsync(database, c));
    }

    /// <summary>
    /// Looking for unclaimed staged pages must not read the members of the syncs under way (a pass every
    /// 10 minutes over the million members of a large sync): a staged page is one row, whatever its size.
    /// </summary>
    [Fact]
    public async Task Looking_for_unclaimed_staged_pages_reads_one_row_per_page_under_way()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        var c = TestCohort.New("ret-scan");
        await host.Client.PostOkAsync(c.Members("s1", 1, 3, Users.Ids("u", 2000)));
        await host.Client.PostOkAsync(c.Members("s1", 2, 3, Users.Ids("v", 2000)));
        await Db.ExecuteAsync(database,
            """
            INSERT INTO staged_page (upload_id, distinct_ids, properties, staged_at)
            VALUES (nextval('upload_id_seq'), '{unclaimed}', '{"{}"}', now() - interval '2 hours');
            ANALYZE staged_page;
            """);

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        Assert.Equal(4001, await connection.ExecuteScalarAsync<long>("SELECT sum(cardinality(distinct_ids)) FROM staged_page"));
        await using var tx = await connection.BeginTransactionAsync();
        var plan = await connection.ExecuteScalarAsync<string>(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + RetentionSql.UnclaimedStagedPages,
            new { batch = 1000, grace = TimeSpan.FromMinutes(60) }, tx);
        await tx.RollbackAsync();

        using var doc = JsonDocument.Parse(plan!);
        var read = RowsRead(doc.RootElement[0].GetProperty("Plan"), "staged_page");
        Assert.True(read < 20, $"{read} staged_page rows read to find 1 unclaimed page among 3 (4,001 members): {plan}");
    }

    /// <summary>Rows a plan's nodes on <paramref name="table"/> produced or filtered out, over all their loops.</summary>
    static double RowsRead(JsonElement node, string table)
    {
        double Number(string name) => node.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
        var own = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == table
            ? (Number("Actual Rows") + Number("Rows Removed by Filter") + Number("Rows Removed by Index Recheck")) * Number("Actual Loops")
            : 0;
        return own + (node.TryGetProperty("Plans", out var children) ? children.EnumerateArray().Sum(child => RowsRead(child, table)) : 0);
    }

    [Fact]
    public async Task A_pass_is_skipped_while_another_process_runs_one()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        await Db.ExecuteAsync(database,
            "INSERT INTO rejected_request (received_at, status, reason, message) VALUES (now() - interval '40 days', 400, 'invalid_body', 'old')");
        var pass = host.App.Services.GetRequiredService<RetentionPass>();
        var before = await MetricsScrape.TakeAsync(host.Client);

        await using (var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString))
        {
            await other.OpenAsync();
            Assert.True(await other.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key = RetentionPass.AdvisoryLockKey }));
            Assert.Null(await pass.RunAsync(CancellationToken.None));
            Assert.Equal(1, await other.ExecuteScalarAsync<long>("SELECT count(*) FROM rejected_request"));
            // Released here: a closed connection's locks go only when its server process has ended, a moment later.
            await other.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = RetentionPass.AdvisoryLockKey });
        }

        var report = await pass.RunAsync(CancellationToken.None);
        Assert.Equal(1, report?.Rejections);

        var after = await MetricsScrape.TakeAsync(host.Client);
        string[] series =
        [
            MetricsScrape.Series("cohortsync_retention_passes_total", ("result", "skipped")),
            MetricsScrape.Series("cohortsync_retention_passes_total", ("result", "completed")),
            MetricsScrape.Series("cohortsync_retention_deleted_total", ("item", "rejection")),
            MetricsScrape.Series("cohortsync_retention_deleted_total", ("item", "session")),
        ];
        Assert.Equal([1.0, 1.0, 1.0, 0.0], series.Select(s => after[s] - before[s]));
    }

    [Fact]
    public async Task Settings_out_of_range_stop_the_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Retention:SessionDays"] = "0",
        }));
        Assert.Contains("SessionDays", error.Message);
    }
}
