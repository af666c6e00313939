using Dapper;
using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>A destination is sent <c>entered</c> once per stay; only an operator's replay sends again, marked so.</summary>
[Collection(HostCollection.Name)]
public sealed class TargetedOnceTests(HostFixture fx)
{
    static string Describe(JsonElement change) => $"{change.Text("kind")}:{change.GetProperty("user").Text("distinctId")}";

    [Fact]
    public async Task Resyncs_send_nothing_again_a_new_stay_is_targeted_and_a_return_within_the_cooldown_is_not()
    {
        await using var plain = await DestinationServer.StartAsync();
        await using var cooled = await DestinationServer.StartAsync();
        var c = TestCohort.New("once");
        await fx.Client.CreateDestinationAsync(plain.Url, c.Project);
        await fx.Client.CreateDestinationAsync(cooled.Url, c.Project, """, "kinds": ["entered"], "reentryCooldownSeconds": 3600""");

        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        // A full copy of the same members (as after an expired snapshot), and a diff that adds them again.
        await fx.B.Client.PostOkAsync(c.Members("s2", 1, 1, "a", "b"));
        await fx.Client.PostOkAsync(c.Add("s3", 1, 1, "a", "b"));
        await fx.Client.PostOkAsync(c.Remove("s3", 1, 1));
        // a leaves, then comes back.
        await fx.Client.PostOkAsync(c.Add("s4", 1, 1));
        await fx.Client.PostOkAsync(c.Remove("s4", 1, 1, "a"));
        await fx.B.Client.PostOkAsync(c.Add("s5", 1, 1, "a"));
        await fx.B.Client.PostOkAsync(c.Remove("s5", 1, 1));

        await plain.WaitAsync(_ => plain.DistinctChanges().Count >= 4, what: "four changes");
        await Task.Delay(700);
        Assert.Equal(["entered:a", "entered:b", "exited:a", "entered:a"], plain.DistinctChanges().Select(Describe));
        Assert.Equal(["entered:a", "entered:b"], cooled.DistinctChanges().Select(Describe));
    }

    [Fact]
    public async Task Deleting_a_destination_deletes_its_ledger_and_no_other()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("ledger-gone");
        var (doomed, _) = await fx.Client.CreateDestinationAsync(server.Url, c.Project);
        var (kept, _) = await fx.Client.CreateDestinationAsync(server.Url, c.Project);
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        await server.WaitAsync(r => r.Sum(h => h.Changes.Count) >= 6, what: "both destinations' changes");

        await using var db = fx.OpenDatabase();
        async Task<(int, int)> Stays(string id) =>
            (await db.ExecuteScalarAsync<int>("SELECT count(*) FROM destination_ledger WHERE destination_id = @id::uuid", new { id }),
             await db.ExecuteScalarAsync<int>("SELECT count(*) FROM destination_ledger_cohort WHERE destination_id = @id::uuid", new { id }));
        Assert.Equal(((3, 1), (3, 1)), (await Stays(doomed), await Stays(kept)));
        using var deleted = await fx.Client.DeleteAsync($"/v1/destinations/{doomed}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(((0, 0), (3, 1)), (await Stays(doomed), await Stays(kept)));
    }

    [Fact]
    public async Task A_replay_resends_from_a_feed_position_marked_as_replay()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("replay");
        var (_, start) = await fx.Client.ReadAsync($"projectId={c.Project}", null, 1000);
        var (id, _) = await fx.Client.CreateDestinationAsync(server.Url, c.Project, """, "kinds": ["entered"]""");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 3);
        var (feed, _) = await fx.Client.ReadToEndAsync($"projectId={c.Project}", start);

        var replay = await fx.Client.PostApiAsync($"/v1/destinations/{id}/replay", $$"""{"from": "{{feed[0].Cursor}}"}""");
        Assert.Equal(202, replay.Code);
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 5, what: "the replay");
        var replayed = server.Hooks.DistinctBy(r => r.WebhookId).Where(r => r.Json.GetProperty("replay").GetBoolean()).ToList();
        Assert.Equal(["entered:b", "entered:c"], replayed.SelectMany(r => r.Changes).Select(Describe));
        Assert.Equal(feed.Skip(1).Select(e => e.Cursor), replayed.SelectMany(r => r.Changes).Select(ch => ch.Text("position")));
        Assert.All((await fx.Client.DeliveriesAsync(id)).GetProperty("deliveries").EnumerateArray().Take(replayed.Count),
            d => Assert.True(d.GetProperty("replay").GetBoolean()));

        Assert.Equal(400, (await fx.Client.PostApiAsync($"/v1/destinations/{id}/replay", """{"from": "nope"}""")).Code);
        Assert.Equal(400, (await fx.Client.PostApiAsync($"/v1/destinations/{id}/replay", "{}")).Code);
    }

    [Fact]
    public async Task After_a_rotation_both_secrets_sign_until_the_grace_period_ends()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("rotate");
        var (id, old) = await fx.Client.CreateDestinationAsync(server.Url, c.Project);
        var rotated = await fx.Client.PostApiAsync($"/v1/destinations/{id}/rotate-secret", "");
        Assert.Equal(200, rotated.Code);
        var secret = rotated.Body.Text("secret");
        Assert.NotEqual(old, secret);
        Assert.True(rotated.Body.GetProperty("previousSecretValidUntil").GetDateTime() > DateTime.UtcNow.AddHours(23));

        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        var got = (await server.WaitAsync(r => r.Count >= 1))[0];
        Assert.Equal(2, got.Signatures.Length);
        Assert.True(got.SignedWith(secret));
        Assert.True(got.SignedWith(old));
        Assert.False(got.SignedWith("whsec_" + Convert.ToBase64String(new byte[32])));
    }
}
