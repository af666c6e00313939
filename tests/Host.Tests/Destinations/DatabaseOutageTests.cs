using CohortSync.Host.Tests.Infrastructure;
using Npgsql;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Delivery outlives the database going away: a batch waiting when it went is delivered after it comes back.</summary>
[Collection(HostCollection.Name)]
public sealed class DatabaseOutageTests(HostFixture fx)
{
    [Fact]
    public async Task Deliveries_resume_after_the_database_was_unreachable_with_the_same_webhook_id()
    {
        var database = await fx.CreateDatabaseAsync();
        var target = new NpgsqlConnectionStringBuilder(database);
        await using var proxy = new TcpProxy(target.Host!, target.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Destinations:PollMilliseconds"] = "50",
            ["Destinations:RetryDelaysSeconds:0"] = "0",
            ["Destinations:RetryDelaysSeconds:1"] = "0.5",
            ["Destinations:RetryDelaysSeconds:2"] = "0.5",
            ["Logging:LogLevel:CohortSync.Host.Destinations"] = "Critical",
        }, viaProxy);
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("db-outage");
        var (_, secret) = await host.Client.CreateDestinationAsync(server.Url, c.Project);

        // The first attempt fails, and the database goes before the retry.
        server.Respond = (_, n) => n == 0 ? new Answer(503) : new Answer(200);
        await host.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        var first = (await server.WaitAsync(r => r.Count >= 1))[0];
        proxy.Cut();
        await Task.Delay(1500);
        Assert.Single(server.All);

        proxy.Restore();
        var again = (await server.WaitAsync(r => r.Count >= 2, what: "the retry after the outage"))[1];
        Assert.Equal((first.WebhookId, first.Body), (again.WebhookId, again.Body));
        Assert.True(again.SignedWith(secret));

        // New changes flow again too.
        await host.Client.PostOkAsync(c.Members("s2", 1, 1, "a", "b"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 2, what: "the change after the outage");
    }
}
