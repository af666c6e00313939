using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Host.Webhook;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CohortSync.Host.Tests.Commit;

/// <summary>
/// Sessions too large to commit in their last page's request: sealed and acknowledged at once, committed
/// behind, in the order they were sealed, by whichever host gets there, after any crash.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class CommitBehindTests(HostFixture fx)
{
    static readonly Dictionary<string, string?> Behind = new() { ["Commit:InlineMaxMembers"] = "0" };

    static readonly Dictionary<string, string?> SealOnly = new()
    {
        ["Commit:InlineMaxMembers"] = "0",
        ["Commit:CommitterEnabled"] = "false",
    };

    static async Task<string> StateAsync(string connectionString, TestCohort c, string sessionId) =>
        (await Db.SessionsAsync(connectionString, c)).Single(s => s.session_id == sessionId).state;

    [Fact]
    public async Task The_last_page_is_answered_sealed_and_the_committer_applies_the_session()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(Behind, database);
        var c = TestCohort.New("behind");

        await host.Client.PostOkAsync(c.Members("s1", 1, 2, "a", "b"));
        await host.Client.PostOkAsync(c.Members("s1", 2, 2, "c"));
        await Db.WaitForSessionStateAsync(database, c, "s1", "committed");

        Assert.Equal(["a", "b", "c"], await host.Client.MemberIdsAsync(c));
        Assert.Equal(["s1:entered:a", "s1:entered:b", "s1:entered:c"], (await Db.TransitionsAsync(database, c)).Select(t => t.ToString()));
        Assert.Equal(0, await Db.StagedMembersAsync(database, c, "s1"));
    }

    [Fact]
    public async Task A_sealed_session_is_shown_as_sealed_and_nothing_of_it_is_visible_until_committed()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var sealer = await fx.StartHostAsync(SealOnly, database);
        var c = TestCohort.New("sealed-view");
        await sealer.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));

        Assert.Equal("sealed", await StateAsync(database, c, "s1"));
        Assert.Empty(await sealer.Client.MemberIdsAsync(c));
        var sessions = await sealer.Client.GetStringAsync($"/v1/cohorts/{c.Project}/{c.Cohort}/sessions");
        Assert.Contains("\"state\":\"sealed\"", sessions);
        // A retry of the last page finds the session sealed: acknowledged, nothing changes.
        var again = await sealer.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        Assert.Equal("success", again.Outcome);
        Assert.Equal("sealed", await StateAsync(database, c, "s1"));
    }

    [Fact]
    public async Task A_newer_session_never_overtakes_an_older_sealed_one()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var sealer = await fx.StartHostAsync(SealOnly, database);
        var c = TestCohort.New("order");

        // s1, a full copy, is sealed; s2, a diff, opens after it (it must not supersede a sealed session) and seals.
        await sealer.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        await sealer.Client.PostOkAsync(c.Add("s2", 1, 1, "c"));
        await sealer.Client.PostOkAsync(c.Remove("s2", 1, 1, "a"));
        Assert.Equal(["sealed", "sealed"], (await Db.SessionsAsync(database, c)).Select(s => s.state));

        // Another host's committer applies both, s1 first.
        await using var committer = await fx.StartHostAsync(Behind, database);
        await Db.WaitForSessionStateAsync(database, c, "s2", "committed");
        Assert.Equal(["b", "c"], await committer.Client.MemberIdsAsync(c));
        var sessions = await Db.SessionsAsync(database, c);
        Assert.Equal(["committed", "committed"], sessions.Select(s => s.state));
        Assert.True(sessions[0].committed_at <= sessions[1].committed_at);
        Assert.Equal(
            ["s1:entered:a", "s1:entered:b", "s2:exited:a", "s2:entered:c"],
            (await Db.TransitionsAsync(database, c)).Select(t => t.ToString()));
    }

    [Fact]
    public async Task A_small_session_sealed_after_a_waiting_one_is_left_to_the_committer_not_committed_first()
    {
        var database = await fx.CreateDatabaseAsync();
        var c = TestCohort.New("no-overtaking");
        await using (var sealer = await fx.StartHostAsync(SealOnly, database))
            await sealer.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));

        // This host commits small sessions inline, but s1 waits: s2 must not be applied before it.
        await using var host = await fx.StartHostAsync(
            new Dictionary<string, string?> { ["Commit:CommitterEnabled"] = "false" }, database);
        await host.Client.PostOkAsync(c.Add("s2", 1, 1, "c"));
        await host.Client.PostOkAsync(c.Remove("s2", 1, 1, "a"));
        Assert.Equal(["sealed", "sealed"], (await Db.SessionsAsync(database, c)).Select(s => s.state));
        Assert.Empty(await host.Client.MemberIdsAsync(c));

        await host.App.Services.GetRequiredService<SessionCommitter>().CommitAllAsync(CancellationToken.None);
        Assert.Equal(["b", "c"], await host.Client.MemberIdsAsync(c));
    }

    [Fact]
    public async Task A_host_killed_while_committing_leaves_the_session_sealed_and_another_commits_it_exactly_once()
    {
        var database = await fx.CreateDatabaseAsync();
        var c = TestCohort.New("killed");
        const int Members = 300;
        var ids = Enumerable.Range(0, Members).Select(i => $"u{i:D4}").ToArray();

        // The commit's last step is held up, so that the process is certainly killed in the middle of it.
        await using (var migrate = await fx.StartHostAsync(SealOnly, database))
        {
        }
        await Db.ExecuteAsync(database, """
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_sleep(60);
                RETURN NEW;
            END $$;
            CREATE TRIGGER slow_commit BEFORE UPDATE OF state ON sync_session
            FOR EACH ROW WHEN (NEW.state = 'committed') EXECUTE FUNCTION slow_commit();
            """);

        await using var doomed = await HostProcess.StartAsync(database, "--Commit:InlineMaxMembers=0", "--Commit:PollSeconds=1");
        await doomed.Client.PostOkAsync(c.Members("s1", 1, 2, ids[..150]));
        await doomed.Client.PostOkAsync(c.Members("s1", 2, 2, ids[150..]));
        await WaitUntilAsync(database, "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%UPDATE sync_session%' AND wait_event = 'PgSleep'");
        await doomed.KillAsync();

        // The server notices a dead client only when it next talks to it (or its keepalives fail, about a
        // minute on): it is told now, as it would learn then. Its transaction, never committed, rolls back.
        await Db.ExecuteAsync(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'");
        await WaitUntilAsync(database, "SELECT count(*) = 0 FROM pg_stat_activity WHERE wait_event = 'PgSleep'");
        await Db.ExecuteAsync(database, "DROP TRIGGER slow_commit ON sync_session; DROP FUNCTION slow_commit();");
        Assert.Equal("sealed", await StateAsync(database, c, "s1"));

        await using var survivor = await fx.StartHostAsync(Behind, database);
        await Db.WaitForSessionStateAsync(database, c, "s1", "committed");
        Assert.Equal(ids, await survivor.Client.MemberIdsAsync(c));
        var transitions = await Db.TransitionsAsync(database, c);
        Assert.Equal(Members, transitions.Count);
        Assert.Equal(Members, transitions.Select(t => t.distinct_id).Distinct().Count());
        var session = (await Db.SessionsAsync(database, c)).Single();
        Assert.Equal((Members, 0), (session.entered_count, session.exited_count));
    }

    static async Task WaitUntilAsync(string database, string condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        await using var connection = new NpgsqlConnection(database);
        while (!await connection.ExecuteScalarAsync<bool>(condition))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {condition}");
            await Task.Delay(50);
        }
    }
}
