using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>
/// Destinations that fail, throttle, vanish, redirect or hang, each against a host of its own database with a
/// retry schedule of fractions of a second, so that the whole schedule runs within a test.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class FaultyDestinationTests(HostFixture fx)
{
    /// <summary>Attempts at once, after 0.3 s, after 0.3 s, after 3 s: four in all.</summary>
    async Task<RunningHost> HostAsync(params (string Key, string Value)[] settings)
    {
        var config = new Dictionary<string, string?>
        {
            ["Destinations:PollMilliseconds"] = "50",
            ["Destinations:RetryDelaysSeconds:0"] = "0",
            ["Destinations:RetryDelaysSeconds:1"] = "0.3",
            ["Destinations:RetryDelaysSeconds:2"] = "0.3",
            ["Destinations:RetryDelaysSeconds:3"] = "3",
        };
        foreach (var (key, value) in settings)
            config[key] = value;
        return await fx.StartHostAsync(config, await fx.CreateDatabaseAsync());
    }

    static async Task SyncAsync(RunningHost host, TestCohort c, params string[] ids) =>
        await host.Client.PostOkAsync(c.Members("s1", 1, 1, ids));

    /// <summary>The attempts at the destination's first batch, newest first (none before it is formed).</summary>
    static IEnumerable<JsonElement> Attempts(JsonElement deliveries) =>
        deliveries.GetProperty("deliveries").EnumerateArray().LastOrDefault() is { ValueKind: JsonValueKind.Object } first
            ? first.GetProperty("recentAttempts").EnumerateArray()
            : [];

    [Fact]
    public async Task A_failed_batch_is_retried_with_the_same_webhook_id_and_body_and_retry_after_is_honoured()
    {
        await using var host = await HostAsync();
        await using var server = await DestinationServer.StartAsync();
        server.Respond = (_, n) => n switch { 0 => new Answer(500), 1 => new Answer(503, RetryAfter: "2"), _ => new Answer(200) };
        var c = TestCohort.New("retry");
        var (id, secret) = await host.Client.CreateDestinationAsync(server.Url, c.Project);
        await SyncAsync(host, c, "a", "b");

        var got = await server.WaitAsync(r => r.Count >= 3, what: "three attempts");
        Assert.Single(got.Select(r => r.WebhookId).Distinct());
        Assert.Single(got.Select(r => r.Body).Distinct());
        Assert.All(got, r => Assert.True(r.SignedWith(secret)));
        Assert.InRange((got[2].At - got[1].At).TotalSeconds, 1.9, 3.5);

        var deliveries = await host.Client.DeliveriesWhenAsync(id, p => p.GetProperty("deliveries")[0].Text("state") == "delivered");
        Assert.Equal([200, 503, 500], Attempts(deliveries).Select(a => a.GetProperty("status").GetInt32()));
        Assert.Equal(["delivered", "failed", "failed"], Attempts(deliveries).Select(a => a.Text("outcome")));
        Assert.Equal(3, deliveries.GetProperty("deliveries")[0].GetProperty("attempts").GetInt32());
        await Task.Delay(500);
        Assert.Equal(3, server.All.Count);
    }

    [Fact]
    public async Task Gone_disables_the_destination_until_it_is_enabled_again()
    {
        await using var host = await HostAsync();
        await using var server = await DestinationServer.StartAsync();
        server.Respond = (_, n) => n == 0 ? new Answer(410) : new Answer(200);
        var c = TestCohort.New("gone");
        var (id, _) = await host.Client.CreateDestinationAsync(server.Url, c.Project);
        await SyncAsync(host, c, "a");

        await server.WaitAsync(r => r.Count >= 1);
        var read = await DeliveriesState(host, id, "gone");
        Assert.False((await host.Client.GetOkAsync($"/v1/destinations/{id}")).GetProperty("enabled").GetBoolean());
        await Task.Delay(800);
        Assert.Single(server.All);
        Assert.Equal("gone", Attempts(read).Single().Text("outcome"));

        await host.Client.PostApiAsync($"/v1/destinations/{id}/enable", "");
        var got = await server.WaitAsync(r => r.Count >= 2);
        Assert.Equal(got[0].WebhookId, got[1].WebhookId);
        await DeliveriesState(host, id, "active");
    }

    [Fact]
    public async Task A_destination_still_failing_at_the_end_of_the_schedule_is_marked_failing()
    {
        await using var host = await HostAsync();
        await using var server = await DestinationServer.StartAsync();
        server.Respond = (_, _) => new Answer(500);
        var c = TestCohort.New("failing");
        var (id, _) = await host.Client.CreateDestinationAsync(server.Url, c.Project);
        await SyncAsync(host, c, "a");

        var deliveries = await DeliveriesState(host, id, "failing", seconds: 20);
        Assert.Equal(4, server.All.Count);
        Assert.Equal(4, deliveries.GetProperty("deliveries")[0].GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, deliveries.GetProperty("deliveries")[0].GetProperty("nextAttemptAt").ValueKind);
        Assert.Equal("failing", (await host.Client.GetOkAsync($"/v1/destinations/{id}")).Text("state"));
        var metrics = await MetricsScrape.TakeWhenAsync(host.Client, m => m["cohortsync_destinations{state=\"failing\"}"] == 1);
        Assert.Equal(1, metrics["cohortsync_destination_schedules_exhausted_total"]);
        Assert.Equal(1, metrics["cohortsync_destinations{state=\"failing\"}"]);
        Assert.Equal(4, metrics[MetricsScrape.Series("cohortsync_destination_deliveries_total", ("outcome", "failed"))]);
        // A failing destination is still enabled: its waiting batch is backlog, and its lag grows.
        Assert.Equal(1, metrics["cohortsync_destination_backlog_batches"]);
        Assert.True(metrics["cohortsync_destination_lag_seconds"] > 1);

        // Enabling starts the schedule again, with the same batch.
        server.Respond = (_, _) => new Answer(204);
        await host.Client.PostApiAsync($"/v1/destinations/{id}/enable", "");
        var got = await server.WaitAsync(r => r.Count >= 5);
        Assert.Single(got.Select(r => r.WebhookId).Distinct());
        await DeliveriesState(host, id, "active");
    }

    [Fact]
    public async Task Two_hosts_never_attempt_one_batch_at_the_same_time_and_every_attempt_is_recorded_once()
    {
        await using var host = await HostAsync(("Destinations:RetryDelaysSeconds:3", "0.3"));
        await using var other = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Destinations:PollMilliseconds"] = "20",
            ["Destinations:RetryDelaysSeconds:0"] = "0",
            ["Destinations:RetryDelaysSeconds:1"] = "0.3",
            ["Destinations:RetryDelaysSeconds:2"] = "0.3",
            ["Destinations:RetryDelaysSeconds:3"] = "0.3",
        }, host.App.Configuration.GetConnectionString(CohortSyncApp.ConnectionStringName));
        await using var server = await DestinationServer.StartAsync();
        // Slow failures: each attempt is long enough for the other host to look at the batch while it is under way.
        server.Respond = (_, n) => n < 3 ? new Answer(500, Delay: TimeSpan.FromMilliseconds(400)) : new Answer(200, Delay: TimeSpan.FromMilliseconds(400));
        var c = TestCohort.New("two-hosts");
        var (id, _) = await host.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 1""");
        await other.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));

        var deliveries = await host.Client.DeliveriesWhenAsync(id,
            p => p.GetProperty("deliveries").GetArrayLength() == 3 && p.GetProperty("pendingBatches").GetInt32() == 0);
        Assert.Equal(0, server.OverlappingDeliveries);
        var recorded = deliveries.GetProperty("deliveries").EnumerateArray().Sum(d => d.GetProperty("attempts").GetInt32());
        Assert.Equal(server.All.Count, recorded);
        Assert.Equal(["a", "b", "c"], server.DistinctChanges().Select(ch => ch.GetProperty("user").Text("distinctId")));

        // The deliveries list pages backwards through the batches.
        var first = await host.Client.GetOkAsync($"/v1/destinations/{id}/deliveries?limit=2");
        var second = await host.Client.GetOkAsync($"/v1/destinations/{id}/deliveries?limit=2&after={first.Text("next")}");
        Assert.Equal([3L, 2L, 1L], first.GetProperty("deliveries").EnumerateArray().Concat(second.GetProperty("deliveries").EnumerateArray())
            .Select(d => d.GetProperty("batch").GetInt64()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_counts_as_a_failure()
    {
        await using var host = await HostAsync();
        await using var server = await DestinationServer.StartAsync();
        server.Respond = (r, _) => r.Path == "/hook" ? new Answer(307, Location: "/elsewhere") : new Answer(200);
        var c = TestCohort.New("redirect");
        var (id, _) = await host.Client.CreateDestinationAsync(server.Url, c.Project);
        await SyncAsync(host, c, "a");

        var deliveries = await host.Client.DeliveriesWhenAsync(id, p => Attempts(p).Any());
        Assert.Equal((307, "failed"), (Attempts(deliveries).Last().GetProperty("status").GetInt32(), Attempts(deliveries).Last().Text("outcome")));
        await Task.Delay(500);
        Assert.All(server.All, r => Assert.Equal("/hook", r.Path));
    }

    [Fact]
    public async Task A_hanging_destination_times_out_and_holds_up_no_other()
    {
        await using var host = await HostAsync(("Destinations:TimeoutSeconds", "2"));
        await using var slow = await DestinationServer.StartAsync();
        await using var quick = await DestinationServer.StartAsync();
        slow.Respond = (_, _) => new Answer(200, Delay: TimeSpan.FromSeconds(30));
        var c = TestCohort.New("hang");
        var (slowId, _) = await host.Client.CreateDestinationAsync(slow.Url, c.Project);
        await host.Client.CreateDestinationAsync(quick.Url, c.Project);

        await SyncAsync(host, c, "a");
        await slow.WaitAsync(r => r.Count >= 1);
        var committed = DateTime.UtcNow;
        await host.Client.PostOkAsync(c.Members("s2", 1, 1, "a", "b"));
        var got = await quick.WaitAsync(r => r.Count >= 2, seconds: 1.5, what: "its second batch while the other destination hangs");
        Assert.True(got[1].At - committed < TimeSpan.FromSeconds(1.5));

        var deliveries = await host.Client.DeliveriesWhenAsync(slowId, p => Attempts(p).Any());
        Assert.Equal("timeout", Attempts(deliveries).Last().Text("outcome"));
        Assert.Equal(JsonValueKind.Null, Attempts(deliveries).Last().GetProperty("status").ValueKind);
    }

    [Fact]
    public async Task The_address_guard_refuses_loopback_when_told_to()
    {
        await using var host = await HostAsync(("Destinations:RefusePrivateNetworks", "true"), ("Destinations:AllowLoopback", "false"));
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("ssrf");
        var (id, _) = await host.Client.CreateDestinationAsync(server.Url, c.Project);
        await SyncAsync(host, c, "a");

        var deliveries = await host.Client.DeliveriesWhenAsync(id, p => Attempts(p).Any());
        Assert.Equal("refused", Attempts(deliveries).Last().Text("outcome"));
        Assert.Contains("private or reserved", Attempts(deliveries).Last().Text("error"));
        Assert.Empty(server.All);
    }

    static async Task<JsonElement> DeliveriesState(RunningHost host, string id, string state, double seconds = 10) =>
        await host.Client.DeliveriesWhenAsync(id, p => p.Text("state") == state, seconds);
}
