using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>A host killed in the middle of a delivery: another host delivers the same batch, with the same webhook-id.</summary>
[Collection(HostCollection.Name)]
public sealed class KilledHostTests(HostFixture fx)
{
    /// <summary>The host to kill: a process of its own, looking for due batches every 50 ms.</summary>
    static Task<HostProcess> DoomedAsync(string database) => HostProcess.StartAsync(database, "--Destinations:PollMilliseconds=50");

    /// <summary>The host that takes over on the same database, as quick to look.</summary>
    Task<RunningHost> SurvivorAsync(string database) =>
        fx.StartHostAsync(new Dictionary<string, string?> { ["Destinations:PollMilliseconds"] = "50" }, database);

    [Fact]
    public async Task A_batch_under_way_when_its_host_is_killed_is_delivered_again_with_the_same_webhook_id()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var server = await DestinationServer.StartAsync();
        // The first call never gets its answer: the host dies waiting for it.
        server.Respond = (_, n) => n == 0 ? new Answer(200, Delay: TimeSpan.FromSeconds(60)) : new Answer(200);
        var c = TestCohort.New("killed");

        var doomed = await DoomedAsync(database);
        var (_, secret) = await doomed.Client.CreateDestinationAsync(server.Url, c.Project);
        await doomed.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        var first = (await server.WaitAsync(r => r.Count >= 1, what: "the first attempt"))[0];
        await doomed.DisposeAsync();

        await using var survivor = await SurvivorAsync(database);
        var again = (await server.WaitAsync(r => r.Count >= 2, seconds: 30, what: "the batch again"))[1];
        Assert.Equal(first.WebhookId, again.WebhookId);
        Assert.Equal(first.Body, again.Body);
        Assert.True(again.SignedWith(secret));
        Assert.Equal(["a", "b"], again.Changes.Select(ch => ch.GetProperty("user").Text("distinctId")));
    }

    [Fact]
    public async Task Batches_answered_before_their_host_is_killed_are_delivered_again_only_in_order_and_unchanged()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var server = await DestinationServer.StartAsync();
        // Two batches are answered at once; the host dies waiting for the third. Their answers were stored together
        // with the third's, or not yet: whatever the host stored, the destination sees the feed in order.
        server.Respond = (_, n) => n == 2 ? new Answer(200, Delay: TimeSpan.FromSeconds(60)) : new Answer(200);
        var c = TestCohort.New("killed-run");
        var users = Users.Ids("u", 5);

        var doomed = await DoomedAsync(database);
        var (id, secret) = await doomed.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 1""");
        await doomed.Client.PostOkAsync(c.Members("s1", 1, 1, users));
        await server.WaitAsync(r => r.Count >= 3, what: "three attempts");
        await doomed.DisposeAsync();

        await using var survivor = await SurvivorAsync(database);
        await survivor.Client.DeliveriesWhenAsync(id, p => p.GetProperty("pendingBatches").GetInt32() == 0, seconds: 30);
        var received = server.Hooks;
        Assert.All(received, r => Assert.True(r.SignedWith(secret)));
        // Each batch's repeats are the same bytes, and the batches, in the order each first arrived, are the feed.
        Assert.All(received.GroupBy(r => r.WebhookId), repeats => Assert.Single(repeats.Select(r => r.Body).Distinct()));
        Assert.Equal(users, server.DistinctChanges().Select(ch => ch.GetProperty("user").Text("distinctId")));
        // The survivor starts again at the oldest batch whose answer was not stored (at the latest, the one under
        // way), and goes on in order from there.
        var batchOf = received.Select(r => Array.IndexOf(users, r.Changes.Single().GetProperty("user").Text("distinctId"))).ToList();
        Assert.Equal([0, 1, 2], batchOf.Take(3));
        var resumed = batchOf.Skip(3).ToList();
        Assert.InRange(resumed[0], 0, 2);
        Assert.Equal(Enumerable.Range(resumed[0], users.Length - resumed[0]), resumed);
    }
}
