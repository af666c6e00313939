using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Committed changes reach a real destination, signed, in feed order, in batches, through hosts A and B.</summary>
[Collection(HostCollection.Name)]
public sealed class DeliveryTests(HostFixture fx)
{
    static string Describe(JsonElement change) => $"{change.Text("kind")}:{change.GetProperty("user").Text("distinctId")}";

    [Fact]
    public async Task Changes_reach_the_destination_signed_in_feed_order_in_batches_with_cohort_user_and_commit()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("deliver");
        var (id, secret) = await fx.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 2""");

        await fx.Client.PostOkAsync(c.Page(WebhookAction.Members, "s1", 1, 1,
            [Users.M("a", email: "a@example.com", firstName: "Ann", properties: """{"plan": "pro"}"""), .. Users.Ms("b", "c", "d", "e")]));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 5, what: "5 changes");
        await fx.B.Client.PostOkAsync(c.Add("s2", 1, 1));
        await fx.B.Client.PostOkAsync(c.Remove("s2", 1, 1, "b"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 6, what: "the exit");

        var batches = server.Hooks.DistinctBy(r => r.WebhookId).ToList();
        Assert.All(batches, b => Assert.InRange(b.Changes.Count, 1, 2));
        Assert.All(server.Hooks, r => Assert.True(r.SignedWith(secret), $"signature of {r.WebhookId} does not verify"));
        Assert.All(server.Hooks, r => Assert.InRange(r.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        Assert.All(server.Hooks, r => Assert.StartsWith("msg_", r.WebhookId));
        Assert.Equal(["entered:a", "entered:b", "entered:c", "entered:d", "entered:e", "exited:b"], server.DistinctChanges().Select(Describe));
        Assert.Equal(0, server.OverlappingDeliveries);

        // The changes are the feed's own: the same cursors, in the same order.
        var (feed, _) = await fx.Client.ReadToEndAsync($"projectId={c.Project}", null, limit: 100);
        Assert.Equal(feed.Select(e => e.Cursor), server.DistinctChanges().Select(ch => ch.Text("position")));

        var first = batches[0].Json;
        Assert.Equal(("cohort.changes", false), (first.Text("type"), first.GetProperty("replay").GetBoolean()));
        var a = first.GetProperty("changes")[0];
        Assert.Equal((c.Project, c.Cohort, $"cohort {c.Cohort}", "s1"),
            (a.Text("projectId"), a.GetProperty("cohort").Text("id"), a.GetProperty("cohort").Text("name"), a.Text("sessionId")));
        var profile = a.GetProperty("user").GetProperty("profile");
        Assert.Equal(("a@example.com", "Ann", "pro"), (profile.Text("email"), profile.Text("firstName"), profile.GetProperty("properties").Text("plan")));
        Assert.True(a.GetProperty("committedAt").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));

        var deliveries = await fx.Client.DeliveriesWhenAsync(id, p => p.GetProperty("pendingBatches").GetInt32() == 0);
        var listed = deliveries.GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Equal(batches.Select(b => b.WebhookId).Reverse(), listed.Select(d => d.Text("webhookId")));
        Assert.All(listed, d => Assert.Equal(("delivered", 200, "delivered"),
            (d.Text("state"), d.GetProperty("recentAttempts")[0].GetProperty("status").GetInt32(), d.GetProperty("recentAttempts")[0].Text("outcome"))));
        Assert.Equal(0, deliveries.GetProperty("lagSeconds").GetDouble());

        var metrics = await MetricsScrape.TakeAsync(fx.Client);
        Assert.True(metrics[MetricsScrape.Series("cohortsync_destination_deliveries_total", ("outcome", "delivered"))] >= 1);
    }

    [Fact]
    public async Task Each_change_carries_its_own_users_profile_as_the_sync_that_made_it_left_it()
    {
        // Batches of one, formed ten to a step, over several steps; a later diff changes every profile, and its
        // changes carry the new ones.
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("profiles");
        await fx.Client.CreateDestinationAsync(server.Url, c.Project, """, "batchSize": 1""");
        var ids = Users.Ids("u", 35);
        await fx.Client.PostOkAsync(c.Page(WebhookAction.Members, "s1", 1, 1, [.. ids.Select(id => Users.M(id, email: $"{id}@one.example"))]));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 35, what: "35 entered");
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, ids));
        await fx.Client.PostOkAsync(c.Page(WebhookAction.AddMembers, "s3", 1, 1, [.. ids.Select(id => Users.M(id, email: $"{id}@three.example"))]));
        await fx.Client.PostOkAsync(c.Remove("s3", 1, 1));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 105, what: "35 entered, exited and entered again");

        var changes = server.DistinctChanges();
        string Email(JsonElement change) => change.GetProperty("user").GetProperty("profile").Text("email");
        Assert.Equal([.. ids, .. ids, .. ids], changes.Select(ch => ch.GetProperty("user").Text("distinctId")));
        Assert.Equal([.. ids.Select(id => $"{id}@one.example")], changes.Take(35).Select(Email));
        Assert.Equal([.. ids.Select(id => $"{id}@three.example")], changes.Skip(70).Select(Email));
    }

    [Fact]
    public async Task A_destination_is_sent_only_its_cohorts_and_kinds()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("filter");
        var other = c with { Cohort = c.Cohort + "-other" };
        var third = c with { Cohort = c.Cohort + "-third" };
        await fx.Client.CreateDestinationAsync(server.Url, c.Project,
            $$""", "cohortIds": ["{{c.Cohort}}", "{{third.Cohort}}"], "kinds": ["exited"]""");

        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        await fx.Client.PostOkAsync(other.Members("s1", 1, 1, "x"));
        await fx.Client.PostOkAsync(other.Members("s2", 1, 1));
        await fx.Client.PostOkAsync(third.Members("s1", 1, 1, "t"));
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "a"));
        await fx.Client.PostOkAsync(third.Members("s2", 1, 1));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 2, what: "two exits");
        await Task.Delay(500);
        Assert.Equal([$"{c.Cohort}:exited:a", $"{third.Cohort}:exited:t"],
            server.DistinctChanges().Select(ch => $"{ch.GetProperty("cohort").Text("id")}:{Describe(ch)}"));
    }
}
