using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>A host killed in the middle of a delivery: another host delivers the same batch, with the same webhook-id.</summary>
[Collection(HostCollection.Name)]
public sealed class KilledHostTests(HostFixture fx)
{
    [Fact]
    public async Task A_batch_under_way_when_its_host_is_killed_is_delivered_again_with_the_same_webhook_id()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var server = await DestinationServer.StartAsync();
        // The first call never gets its answer: the host dies waiting for it.
        server.Respond = (_, n) => n == 0 ? new Answer(200, Delay: TimeSpan.FromSeconds(60)) : new Answer(200);
        var c = TestCohort.New("killed");

        var doomed = await HostProcess.StartAsync(database, "--Destinations:PollMilliseconds=50");
        var (_, secret) = await doomed.Client.CreateDestinationAsync(server.Url, c.Project);
        await doomed.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        var first = (await server.WaitAsync(r => r.Count >= 1, what: "the first attempt"))[0];
        await doomed.DisposeAsync();

        await using var survivor = await fx.StartHostAsync(new Dictionary<string, string?> { ["Destinations:PollMilliseconds"] = "50" }, database);
        var again = (await server.WaitAsync(r => r.Count >= 2, seconds: 30, what: "the batch again"))[1];
        Assert.Equal(first.WebhookId, again.WebhookId);
        Assert.Equal(first.Body, again.Body);
        Assert.True(again.SignedWith(secret));
        Assert.Equal(["a", "b"], again.Changes.Select(ch => ch.GetProperty("user").Text("distinctId")));
    }
}
