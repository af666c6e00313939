using System.Text.Json;
using CohortSync.Domain.Targeting;
using CohortSync.Domain.Tracking;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Mixpanel destinations against a real local stand-in for <c>/import</c>.</summary>
[Collection(HostCollection.Name)]
public sealed class MixpanelDestinationTests(HostFixture fx)
{
    const string Token = """{"region": "US", "token": "project-token-1", "properties": {"channel": "email"}}""";

    [Fact]
    public async Task Each_change_arrives_gzipped_as_one_event_with_time_distinct_id_insert_id_and_its_cohort()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-events");
        var id = await w.CreateAsync(c.Project, Token);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds();

        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        await w.Mixpanel.WaitAsync(e => e.Count >= 3);
        await w.Client.PostOkAsync(c.Add("s2", 1, 1));
        await w.Client.PostOkAsync(c.Remove("s2", 1, 1, "b"));
        var events = await w.Mixpanel.WaitAsync(e => e.Count >= 4);

        Assert.Equal(["$campaign_delivery:a", "$campaign_delivery:b", "$campaign_delivery:c", "$message_suppressed:b"],
            events.Select(e => $"{e.Event}:{e.DistinctId}"));
        var (feed, _) = await w.Client.ReadToEndAsync($"projectId={c.Project}", null, limit: 100);
        Assert.Equal(feed.Select(f => InsertId.ForChange(Guid.Parse(id), Position(f.Cursor))), events.Select(e => e.InsertId));
        Assert.All(events, e => Assert.True(InsertId.IsValid(e.InsertId), e.InsertId));
        Assert.All(events, e => Assert.InRange(e.TimeMs, before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        Assert.All(events, e => Assert.Equal((c.Cohort, $"cohort {c.Cohort}", "cohortsync", "email"),
            (Text(e.Properties["cohort_id"]), Text(e.Properties["cohort_name"]), Text(e.Properties["$source"]), Text(e.Properties["channel"]))));
        Assert.Equal(["entered", "entered", "entered", "exited"], events.Select(e => Text(e.Properties["cohort_change"])));

        Assert.All(w.Mixpanel.Requests, r => Assert.Equal(("/us/import", "?strict=1", "project-token-1", "", true, 200, "cohortsync"),
            (r.Path, r.Query, r.BasicUser, r.BasicPassword, r.Gzipped, r.Status, r.IntegrationId)));
        var deliveries = await w.Client.DeliveriesWhenAsync(id, p => p.GetProperty("pendingBatches").GetInt32() == 0);
        Assert.All(deliveries.GetProperty("deliveries").EnumerateArray(), d => Assert.Equal("delivered", d.Text("state")));
    }

    [Fact]
    public async Task A_service_account_sends_its_project_id_and_each_region_goes_to_its_own_host()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-regions");
        await w.CreateAsync(c.Project,
            """{"region": "EU", "serviceAccount": {"username": "sa.user", "secret": "sa-secret"}, "importProjectId": "3141592"}""");
        await w.CreateAsync(c.Project, """{"region": "IN", "token": "in-token"}""");

        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        await w.Mixpanel.WaitAsync(e => e.Count >= 2);

        var requests = w.Mixpanel.Requests.OrderBy(r => r.Path).ToList();
        Assert.Equal(
            [("/eu/import", "?strict=1&project_id=3141592", "sa.user", "sa-secret"), ("/in/import", "?strict=1", "in-token", "")],
            requests.Select(r => (r.Path, r.Query, r.BasicUser, r.BasicPassword)));
        Assert.Equal(2, w.Mixpanel.Events.Select(e => e.InsertId).Distinct().Count());
    }

    [Fact]
    public async Task The_integration_id_is_configured_and_an_empty_one_is_not_sent()
    {
        await using var w = await MixpanelWorld.StartAsync(fx, new Dictionary<string, string?> { ["Destinations:Mixpanel:IntegrationId"] = "" });
        var c = TestCohort.New("mp-no-integration-id");
        await w.CreateAsync(c.Project, Token);
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        await w.Mixpanel.WaitAsync(e => e.Count >= 1);
        Assert.All(w.Mixpanel.Requests, r => Assert.Null(r.IntegrationId));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Destinations:Mixpanel:IntegrationId"] = "cohort sync",
        }));
        Assert.Contains("Destinations:Mixpanel:IntegrationId", error.Message);
    }

    [Fact]
    public async Task A_replay_sends_the_same_insert_ids_and_Mixpanel_keeps_each_event_once()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-replay");
        var id = await w.CreateAsync(c.Project, Token);
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        var first = await w.Mixpanel.WaitAsync(e => e.Count >= 3);
        var requests = w.Mixpanel.Requests.Count;

        var (feed, _) = await w.Client.ReadToEndAsync($"projectId={c.Project}", null, limit: 100);
        var replay = await w.Client.PostApiAsync($"/v1/destinations/{id}/replay", $$"""{"from": "{{feed[0].Cursor}}"}""");
        Assert.Equal(202, replay.Code);
        await w.Client.DeliveriesWhenAsync(id, p => p.GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("replay").GetBoolean())
                                                    && p.GetProperty("pendingBatches").GetInt32() == 0);

        Assert.True(w.Mixpanel.Requests.Count > requests, "the replay sent nothing");
        Assert.Equal(first.Select(e => e.InsertId), w.Mixpanel.Events.Select(e => e.InsertId));
    }

    [Fact]
    public async Task Refused_records_are_kept_on_the_attempt_the_others_are_ingested_and_the_batch_is_never_retried()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-failed");
        var id = await w.CreateAsync(c.Project, Token);
        // Mixpanel refuses a placeholder distinct id such as "null".
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "null", "z"));
        await w.Mixpanel.WaitAsync(e => e.Count >= 2);

        var page = await w.Client.DeliveriesWhenAsync(id, p => p.GetProperty("pendingBatches").GetInt32() == 0
                                                             && p.GetProperty("deliveries").GetArrayLength() == 1);
        var batch = page.GetProperty("deliveries")[0];
        Assert.Equal(("delivered", 1), (batch.Text("state"), batch.GetProperty("attempts").GetInt32()));
        var attempt = Assert.Single(batch.GetProperty("recentAttempts").EnumerateArray());
        Assert.Equal((400, "partial"), (attempt.GetProperty("status").GetInt32(), attempt.Text("outcome")));
        var refused = Assert.Single(attempt.GetProperty("failedRecords").EnumerateArray());
        var (feed, _) = await w.Client.ReadToEndAsync($"projectId={c.Project}", null, limit: 100);
        var nullUser = feed.Single(f => f.DistinctId == "null");
        Assert.Equal((1, InsertId.ForChange(Guid.Parse(id), Position(nullUser.Cursor)), "properties.distinct_id"),
            (refused.GetProperty("index").GetInt32(), refused.Text("insert_id"), refused.Text("field")));

        await Task.Delay(1000);
        Assert.Single(w.Mixpanel.Requests);
        Assert.Equal(["a", "z"], w.Mixpanel.Events.Select(e => e.DistinctId));
    }

    [Fact]
    public async Task A_429_backs_off_at_least_two_seconds_and_the_batch_is_then_delivered()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-429");
        var id = await w.CreateAsync(c.Project, Token);
        w.Mixpanel.Fail(429);
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        await w.Mixpanel.WaitAsync(e => e.Count >= 1, seconds: 30);

        var requests = w.Mixpanel.Requests;
        Assert.Equal([429, 200], requests.Select(r => r.Status));
        Assert.InRange((requests[1].At - requests[0].At).TotalSeconds, 2.5, 10);
        var page = await w.Client.DeliveriesWhenAsync(id, p => p.GetProperty("pendingBatches").GetInt32() == 0);
        Assert.Equal(["delivered", "failed"],
            page.GetProperty("deliveries")[0].GetProperty("recentAttempts").EnumerateArray().Select(a => a.Text("outcome")));
    }

    [Fact]
    public async Task Refused_credentials_mark_the_destination_failing_at_once()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-401");
        var id = await w.CreateAsync(c.Project, Token);
        w.Mixpanel.Fail(401);
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));

        var page = await w.Client.DeliveriesWhenAsync(id, p => p.Text("state") == "failing");
        var attempt = page.GetProperty("deliveries")[0].GetProperty("recentAttempts")[0];
        Assert.Equal((401, "unauthorized"), (attempt.GetProperty("status").GetInt32(), attempt.Text("outcome")));
        Assert.DoesNotContain("project-token-1", attempt.Text("error"));
        Assert.Empty(w.Mixpanel.Events);
    }

    [Fact]
    public async Task A_batch_under_way_when_its_host_is_killed_is_sent_again_and_Mixpanel_keeps_each_event_once()
    {
        await using var standIn = await CohortSync.Simulate.Sink.ImportStandIn.StartAsync();
        var database = await fx.CreateDatabaseAsync();
        // Mixpanel ingests the first batch, and its answer never reaches the host, which dies waiting.
        standIn.HoldAnswers(TimeSpan.FromSeconds(60));
        var c = TestCohort.New("mp-killed");
        var settings = MixpanelWorld.Settings(standIn);
        var doomed = await HostProcess.StartAsync(database, [.. settings.Select(s => $"--{s.Key}={s.Value}")]);
        var created = await doomed.Client.PostApiAsync("/v1/destinations", $$"""{"kind": "mixpanel", "projectId": "{{c.Project}}", "mixpanel": {{Token}}}""");
        Assert.Equal(201, created.Code);
        await doomed.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        await standIn.WaitAsync(e => e.Count >= 2);
        await doomed.DisposeAsync();

        await using var survivor = await fx.StartHostAsync(settings, database);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (standIn.Requests.Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(2, standIn.Requests.Count(r => r.Status == 200));
        Assert.Equal(["a", "b"], standIn.Events.Select(e => e.DistinctId));
    }

    [Fact]
    public async Task Changes_over_2_MB_of_events_go_in_several_requests_each_within_the_limit_in_feed_order()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("mp-2mb");
        // About 60 KB per event: 40 changes are more than one 2 MB request holds.
        var large = JsonSerializer.Serialize(new string('x', 60_000));
        await w.CreateAsync(c.Project, $$$"""{"region": "US", "token": "t", "properties": {"note": {{{large}}}}}""");
        var users = Enumerable.Range(0, 40).Select(i => $"u{i:00}").ToArray();
        await w.Client.PostOkAsync(c.Members("s1", 1, 1, users));

        var events = await w.Mixpanel.WaitAsync(e => e.Count >= users.Length, seconds: 30);
        Assert.Equal(users, events.Select(e => e.DistinctId));
        Assert.True(w.Mixpanel.Requests.Count >= 2, $"{w.Mixpanel.Requests.Count} requests");
        Assert.All(w.Mixpanel.Requests, r => Assert.Equal(200, r.Status));
    }

    static FeedPosition Position(string cursor) =>
        Feed.FeedCursor.TryDecode(cursor, out var c) ? new FeedPosition(c.CommitPosition, c.DistinctId) : throw new ArgumentException(cursor);

    static string? Text(System.Text.Json.Nodes.JsonNode? node) => node?.GetValue<string>();
}
