using System.Net;
using CohortSync.Host.Tests.Infrastructure;
using Npgsql;

namespace CohortSync.Host.Tests;

/// <summary>
/// 503 with Retry-After when the database cannot take a page, never a 4xx (which would pause Mixpanel's
/// sync); and the page posted during the outage is stored when Mixpanel retries it after recovery.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class OutageTests(HostFixture fx)
{
    /// <summary>Mixpanel's retries after recovery: 503 is allowed on the way (a pooled connection the
    /// outage broke), anything else is not. Returns the number of attempts it took.</summary>
    static async Task<int> RepostUntilStoredAsync(HttpClient client, CohortSync.Domain.WebhookPage page)
    {
        for (var attempt = 1; ; attempt++)
        {
            var reply = await client.PostAsync(page);
            if (reply.Status == HttpStatusCode.OK)
                return attempt;
            Assert.True(reply.Status == HttpStatusCode.ServiceUnavailable && attempt < 5, $"retry {attempt} after recovery: {reply}");
            await Task.Delay(100);
        }
    }

    static void AssertUnavailable(Reply reply, string action)
    {
        Assert.True(reply.Status == HttpStatusCode.ServiceUnavailable, $"expected 503, got {reply}");
        Assert.Equal(action, reply.Action);
        Assert.Equal("5", reply.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task Service_unavailable_while_the_database_is_unreachable_then_the_retried_page_is_stored()
    {
        var server = new NpgsqlConnectionStringBuilder(fx.ConnectionString);
        await using var proxy = new TcpProxy(server.Host!, server.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(fx.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var host = await fx.StartHostAsync(connectionString: viaProxy);
        var c = TestCohort.New("outage");

        await host.Client.PostOkAsync(c.Members("s1", 1, 2, "a"));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/readyz")).StatusCode);

        proxy.Cut();
        var last = c.Members("s1", 2, 2, "b");
        AssertUnavailable(await host.Client.PostAsync(last), "members");
        // Every kind of valid page, of any cohort: retry later, never a pause.
        AssertUnavailable(await host.Client.PostAsync(c.Add("s2", 1, 1, "x")), "add_members");
        AssertUnavailable(await host.Client.PostAsync(TestCohort.New("outage-new").Remove("s1", 1, 1, "x")), "remove_members");
        AssertUnavailable(await host.Client.PostAsync(last), "members");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Client.GetAsync("/readyz")).StatusCode);
        // A body no retry can fix is still a 400.
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Client.PostRawAsync("{")).Status);
        Assert.Empty(await fx.Client.GetAllMembersAsync(c));

        proxy.Restore();
        var attempts = await RepostUntilStoredAsync(host.Client, last);
        Assert.Equal(["a", "b"], await fx.Client.MemberIdsAsync(c));
        Assert.Equal("committed", Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c)).state);
        Assert.True(attempts == 1, $"the first retry after recovery was refused; it took {attempts} attempts");
    }

    [Fact]
    public async Task Service_unavailable_while_the_database_refuses_connections_then_the_retried_page_is_stored()
    {
        var connectionString = await fx.CreateDatabaseAsync();
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var host = await fx.StartHostAsync(connectionString: connectionString);
        var c = TestCohort.New("locked-out");

        await host.Client.PostOkAsync(c.Add("d1", 1, 1, "a", "b"));

        await Db.ExecuteAsync(fx.ServerConnectionString, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
        await Db.ExecuteAsync(fx.ServerConnectionString,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()",
            new { database });
        try
        {
            var last = c.Remove("d1", 1, 1, "b");
            AssertUnavailable(await host.Client.PostAsync(last), "remove_members");
            AssertUnavailable(await host.Client.PostAsync(last), "remove_members");
            AssertUnavailable(await host.Client.PostAsync(c.Members("f2", 1, 1, "z")), "members");

            await Db.ExecuteAsync(fx.ServerConnectionString, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
            // This process's own pool (DbUp's connections at start) holds connections the outage killed.
            NpgsqlConnection.ClearAllPools();
            var attempts = await RepostUntilStoredAsync(host.Client, last);
            Assert.Equal(["a"], await host.Client.MemberIdsAsync(c));
            Assert.Equal(
                new[] { "d1:entered:a" },
                (await Db.TransitionsAsync(connectionString, c)).Select(t => t.ToString()));
            Assert.True(attempts == 1, $"the first retry after recovery was refused; it took {attempts} attempts");
        }
        finally
        {
            await Db.ExecuteAsync(fx.ServerConnectionString, $"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }
    }

    [Fact]
    public async Task A_commit_under_way_completes_when_the_sender_stops_waiting()
    {
        var c = TestCohort.New("gave-up");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 2, "a"));

        // Hold the cohort's row lock, so that the last page waits behind it, as behind a long commit.
        await using var holder = fx.OpenDatabase();
        await using var tx = await holder.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand(
            "SELECT 1 FROM cohort WHERE project_id = $1 AND cohort_id = $2 FOR UPDATE", holder, tx))
        {
            lockRow.Parameters.AddWithValue(c.Project);
            lockRow.Parameters.AddWithValue(c.Cohort);
            await lockRow.ExecuteScalarAsync();
        }

        using var impatient = new HttpClient { BaseAddress = fx.A.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.PostAsync(c.Members("s1", 2, 2, "b")));
        await tx.RollbackAsync();

        // The page the sender gave up on was stored and committed all the same; its retry is a repeat.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Db.SessionsAsync(fx.ConnectionString, c)).Single().state != "committed" && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal("committed", (await Db.SessionsAsync(fx.ConnectionString, c)).Single().state);
        Assert.Equal(["a", "b"], await fx.Client.MemberIdsAsync(c));
        await fx.Client.PostOkAsync(c.Members("s1", 2, 2, "b"));
        Assert.Equal(2, (await Db.TransitionsAsync(fx.ConnectionString, c)).Count);
    }
}
