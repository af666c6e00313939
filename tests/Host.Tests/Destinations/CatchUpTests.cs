using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>A destination with many batches to take gets them back to back, not one per poll.</summary>
[Collection(HostCollection.Name)]
public sealed class CatchUpTests(HostFixture fx)
{
    [Fact]
    public async Task Batches_go_back_to_back_while_they_succeed_not_one_per_poll()
    {
        await using var host = await fx.StartHostAsync(
            new Dictionary<string, string?> { ["Destinations:PollMilliseconds"] = "3000" }, await fx.CreateDatabaseAsync());
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("catch-up");
        await host.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 1""");

        await host.Client.PostOkAsync(c.Members("s1", 1, 1, Users.Ids("u", 20)));
        var first = (await server.WaitAsync(r => r.Count >= 1, seconds: 10))[0];
        var all = await server.WaitAsync(r => r.Count >= 20, seconds: 10, what: "20 batches");
        Assert.True(all[^1].At - first.At < TimeSpan.FromSeconds(2.5), $"20 batches took {all[^1].At - first.At}, as if paced by the 3 s poll");
        Assert.Equal(Users.Ids("u", 20), server.DistinctChanges().Select(ch => ch.GetProperty("user").Text("distinctId")));
    }

    [Fact]
    public async Task A_destination_that_yields_its_place_after_100_batches_is_taken_up_again_without_waiting_for_the_poll()
    {
        await using var host = await fx.StartHostAsync(
            new Dictionary<string, string?> { ["Destinations:PollMilliseconds"] = "5000" }, await fx.CreateDatabaseAsync());
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("yield");
        await host.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 1""");

        await host.Client.PostOkAsync(c.Members("s1", 1, 1, Users.Ids("u", 150)));
        var all = await server.WaitAsync(r => r.Count >= 150, seconds: 30, what: "150 batches");
        var longest = all.Zip(all.Skip(1), (a, b) => b.At - a.At).Max();
        Assert.True(longest < TimeSpan.FromSeconds(2.5), $"a pause of {longest} between batches, as if the 5 s poll was waited for");
    }
}
