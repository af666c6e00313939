using CohortSync.Simulate;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary><c>simulate --sink</c> against the real host: a faulty destination, and every delivery still verifies.</summary>
[Collection(HostCollection.Name)]
public sealed class SimulateSinkTests(HostFixture fx)
{
    /// <summary>A host that gives up on a call after 1 s and retries ten times within a few seconds, on a database of
    /// its own: the fixture's hosts, with the standard schedule, must not be the ones to retry its batches.</summary>
    static async Task<RunningHost> QuickRetryingHostAsync(HostFixture fx, params (string Key, string Value)[] more) =>
        await fx.StartHostAsync(new Dictionary<string, string?>(more.Select(m => KeyValuePair.Create(m.Key, (string?)m.Value)))
        {
            ["Destinations:PollMilliseconds"] = "50",
            ["Destinations:TimeoutSeconds"] = "1",
            ["Destinations:RetryDelaysSeconds:0"] = "0",
            ["Destinations:RetryDelaysSeconds:1"] = "0.1",
            ["Destinations:RetryDelaysSeconds:2"] = "0.2",
            ["Destinations:RetryDelaysSeconds:3"] = "0.3",
            ["Destinations:RetryDelaysSeconds:4"] = "0.5",
            ["Destinations:RetryDelaysSeconds:5"] = "0.5",
            ["Destinations:RetryDelaysSeconds:6"] = "1",
            ["Destinations:RetryDelaysSeconds:7"] = "1",
            ["Destinations:RetryDelaysSeconds:8"] = "1",
            ["Destinations:RetryDelaysSeconds:9"] = "1",
        }, await fx.CreateDatabaseAsync());

    [Fact]
    public async Task Syncs_through_a_faulty_sink_deliver_every_change_once_per_stay_signed_and_in_feed_order()
    {
        await using var host = await QuickRetryingHostAsync(fx);
        var result = await SimulateRunner.RunAsync(
        [
            "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("sink"),
            "--cohorts", "2", "--size", "200", "--churn", "0.2", "--syncs", "4", "--time-scale", "0", "--page-size", "50",
            "--fault-rate", "0.1", "--seed", "20261203",
            "--sink", "--sink-faults", "0.3", "--sink-slow", "1.5", "--sink-batch-size", "25", "--sink-wait", "60",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var delivery = result.Summary!.Value.GetProperty("delivery");
        var v = delivery.GetProperty("verification");
        Assert.Equal(0, v.GetProperty("violations").GetInt32());
        Assert.True(delivery.GetProperty("caughtUp").GetBoolean(), result.ToString());
        Assert.Equal("active", delivery.GetProperty("destinationState").GetString());

        // 2 cohorts of 200 entered at least, and each later sync moved 20% of them.
        var expected = v.GetProperty("expected").GetInt32();
        Assert.True(expected >= 400 + 2 * 3 * 40, result.ToString());
        Assert.Equal(expected, v.GetProperty("delivered").GetInt32());
        Assert.True(v.GetProperty("exited").GetInt32() > 0, result.ToString());
        Assert.Equal(v.GetProperty("requests").GetInt32(), v.GetProperty("signaturesVerified").GetInt32());

        // The faults were played, and each made the host try its batch again.
        var faults = delivery.GetProperty("faults").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.True(faults.Count >= 3, result.ToString());
        Assert.True(v.GetProperty("repeats").GetInt32() >= faults.Values.Sum() - faults.GetValueOrDefault("slow"), result.ToString());
        Assert.Contains("0 violations", result.Output);
        Assert.Contains("targeted once  0 users entered twice in one stay -> ok", result.Output);
    }

    [Fact]
    public async Task Through_a_faulty_mixpanel_stand_in_mixpanel_keeps_each_delivered_change_once()
    {
        var port = FreePort();
        await using var host = await QuickRetryingHostAsync(fx, ("Destinations:Mixpanel:Hosts:US", $"http://127.0.0.1:{port}"));
        var result = await SimulateRunner.RunAsync(
        [
            "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("sink-mixpanel"),
            "--cohorts", "2", "--size", "100", "--churn", "0.2", "--syncs", "3", "--time-scale", "0", "--page-size", "50",
            "--seed", "20261203", "--sink", "--sink-faults", "0.3", "--sink-slow", "0", "--sink-batch-size", "40", "--sink-wait", "90",
            "--sink-mixpanel-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var delivery = result.Summary!.Value.GetProperty("delivery");
        var v = delivery.GetProperty("verification");
        Assert.Equal(0, v.GetProperty("violations").GetInt32());
        var mixpanel = v.GetProperty("elsewhere").EnumerateArray().Single();
        Assert.Equal("mixpanel", mixpanel.GetProperty("name").GetString());
        Assert.Equal(v.GetProperty("delivered").GetInt32(), mixpanel.GetProperty("held").GetInt32());
        Assert.True(mixpanel.GetProperty("held").GetInt32() >= 200, result.ToString());

        // The stand-in played its faults, and the service tried those batches again.
        var side = delivery.GetProperty("mixpanel");
        Assert.True(side.GetProperty("caughtUp").GetBoolean(), result.ToString());
        var faults = side.GetProperty("faults").EnumerateObject().Sum(p => p.Value.GetInt32());
        Assert.True(faults >= 1, result.ToString());
        Assert.True(side.GetProperty("requests").GetInt32() > faults, result.ToString());
        Assert.Matches(@"mixpanel +\d+ held: 0 delivered and missing there, 0 never delivered -> ok", result.Output);
    }

    [Fact]
    public async Task A_mixpanel_stand_in_the_service_does_not_send_to_fails_the_run_and_says_how_to_point_it()
    {
        // The service's US host is a port nothing listens on, not the stand-in's (nor Mixpanel's).
        var port = FreePort();
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Destinations:Mixpanel:Hosts:US"] = $"http://127.0.0.1:{FreePort()}",
        }, await fx.CreateDatabaseAsync());
        var result = await SimulateRunner.RunAsync(
        [
            "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("sink-mixpanel-unset"),
            "--cohorts", "1", "--size", "20", "--syncs", "1", "--time-scale", "0",
            "--sink", "--sink-wait", "5", "--sink-mixpanel-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);

        Assert.True(result.ExitCode == ExitCodes.DeliveryViolated, result.ToString());
        Assert.Contains($"run the service with Destinations__Mixpanel__Hosts__US=http://127.0.0.1:{port}", result.Output);
        Assert.Contains("0 held: 20 delivered and missing there", result.Output);
    }

    [Fact]
    public async Task A_load_run_with_a_sink_times_delivery_of_the_full_sync_and_the_diff()
    {
        var result = await SimulateRunner.RunAsync(
        [
            "--load", "--url", fx.A.WebhookUrl(), "--project", SimulateRunner.NewProject("load-sink"),
            "--size", "3000", "--page-size", "500", "--diff", "1000", "--sink", "--sink-wait", "60",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var delivery = result.Summary!.Value.GetProperty("delivery");
        Assert.Equal(1000, delivery.GetProperty("batchSize").GetInt32());
        var full = delivery.GetProperty("full");
        Assert.Equal((3000, 3000, 3), (full.GetProperty("changes").GetInt64(), full.GetProperty("held").GetInt64(), full.GetProperty("batches").GetInt32()));
        Assert.True(full.GetProperty("commitToLastDeliveredSeconds").GetDouble() > 0, result.ToString());
        var diff = delivery.GetProperty("diff");
        Assert.Equal((1000, 1000), (diff.GetProperty("changes").GetInt64(), diff.GetProperty("held").GetInt64()));
        var p99 = diff.GetProperty("commitToDelivered").GetProperty("p99").GetDouble();
        Assert.InRange(p99, diff.GetProperty("commitToDelivered").GetProperty("p50").GetDouble(), 60_000);
        // The probe cohort synced while the full sync's changes were delivered; its project is not the destination's.
        Assert.True(delivery.GetProperty("ackSamples").GetInt32() >= 1, result.ToString());
        Assert.Contains("pages acknowledged while delivering", result.Output);
    }

    [Fact]
    public async Task Sink_options_need_the_sink()
    {
        var result = await SimulateRunner.RunAsync(["--url", fx.A.WebhookUrl(), "--sink-faults", "0.1"]);

        Assert.True(result.ExitCode == ExitCodes.BadOptions, result.ToString());
        Assert.Contains("--sink-faults needs --sink", result.Error);
    }

    [Fact]
    public async Task The_mixpanel_stand_in_needs_the_sink_and_a_free_port()
    {
        var alone = await SimulateRunner.RunAsync(["--url", fx.A.WebhookUrl(), "--sink-mixpanel-port", "17001"]);
        Assert.True(alone.ExitCode == ExitCodes.BadOptions, alone.ToString());
        Assert.Contains("--sink-mixpanel-port needs --sink", alone.Error);

        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var result = await SimulateRunner.RunAsync(
                ["--url", fx.A.WebhookUrl(), "--project", SimulateRunner.NewProject("sink-mixpanel-taken"), "--size", "10", "--syncs", "1",
                 "--sink", "--sink-mixpanel-port", port]);
            Assert.True(result.ExitCode == ExitCodes.NotChecked, result.ToString());
            Assert.Contains($"the /import stand-in cannot listen on 127.0.0.1:{port}", result.Error);
            Assert.Null(result.Summary);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task A_sink_the_service_will_not_create_stops_the_run_before_any_sync()
    {
        var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Api:Keys:0:Key"] = "k-123456789012345678901234", ["Api:Keys:0:Projects:0"] = "elsewhere" });
        var result = await SimulateRunner.RunAsync(
            ["--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("sink-refused"), "--size", "10", "--syncs", "1", "--sink"]);

        Assert.True(result.ExitCode == ExitCodes.NotChecked, result.ToString());
        Assert.Contains("the sink's destination", result.Error);
        Assert.Null(result.Summary);
    }

    static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
