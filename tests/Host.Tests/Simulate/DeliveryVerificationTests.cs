using System.Text.Json.Nodes;
using CohortSync.Domain.Targeting;
using CohortSync.Domain.Tracking;
using CohortSync.Host.Feed;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>
/// The sink's verification can fail: real deliveries from the real host pass it, and the same deliveries, with
/// the sink lying about them (a batch dropped, a body tampered with, a batch sent again under a new id or out of
/// order, a second destination short of a change), do not.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class DeliveryVerificationTests(HostFixture fx)
{
    [Fact]
    public async Task Real_deliveries_verify_and_every_lie_about_them_is_caught()
    {
        await using var server = await DestinationServer.StartAsync();
        using var api = new DestinationApiClient(fx.A.BaseAddress, null);
        var c = TestCohort.New("verify");
        var destination = await api.CreateAsync(server.Url, c.Project, batchSize: 2, CancellationToken.None);
        // Delivered before the next sync commits, so that the batches are [a, b], [c] and then [a leaving, d].
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 3, what: "three changes");
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1, "d"));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "a"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 5, what: "five changes");
        var (feed, _) = await api.FeedAsync(c.Project, destination.StartCursor, CancellationToken.None);
        var hooks = server.Hooks;
        string[] secrets = [destination.Secret];
        DeliveryVerification Check(IReadOnlyList<Received> requests, params ReceivedElsewhere[] elsewhere) =>
            DeliveryVerification.Check(feed, requests, secrets, 0, elsewhere);

        var honest = Check(hooks);
        Assert.True(honest.Passed, string.Join("\n", honest.Examples));
        Assert.Equal((5, 5, 3, 4, 1), (honest.Expected, honest.Delivered, honest.Batches, honest.Entered, honest.Exited));
        var delivered = hooks.SelectMany(r => r.Changes).Select(ChangeKey.OfDelivered).ToList();
        Assert.True(Check(hooks, new ReceivedElsewhere("stand-in", delivered)).Passed);

        var dropped = Check([.. hooks.Skip(1)]);
        Assert.Equal((2, 0), (dropped.Missing, dropped.Unexpected));

        var tampered = hooks[0] with { Body = hooks[0].Body.Replace("\"b\"", "\"x\"") };
        var lied = Check([.. hooks, tampered]);
        Assert.Equal((1, 1), (lied.SignaturesFailed, lied.RepeatsChanged));
        var otherSecret = DeliveryVerification.Check(feed, hooks, ["whsec_" + Convert.ToBase64String(new byte[32])], 0, []);
        Assert.Equal(hooks.Count, otherSecret.SignaturesFailed);

        var stale = Check([.. hooks.Select((r, i) => i == 0 ? r with { At = r.At.AddMinutes(10) } : r)]);
        Assert.Equal(1, stale.StaleTimestamps);

        // The first batch (a and b entering) again under a new id, after a has left: a's return is a new stay, b's is not.
        var again = Check([.. hooks, hooks[0] with { WebhookId = "msg_again" }]);
        Assert.Equal((2, 1), (again.ResentUnderNewId, again.TargetedTwice));

        var reordered = Check([hooks[1], hooks[0], .. hooks.Skip(2)]);
        Assert.Equal((0, 0, 1), (reordered.Missing, reordered.Unexpected, reordered.NotInFeedOrder));

        var shortOne = Check(hooks, new ReceivedElsewhere("stand-in", delivered.Skip(1).ToList()));
        Assert.Equal((1, 0), (shortOne.Elsewhere[0].Missing, shortOne.Elsewhere[0].Unexpected));
        Assert.False(shortOne.Passed);
        await api.DeleteAsync(destination.Id, CancellationToken.None);
    }

    [Fact]
    public async Task Mixpanel_events_recovered_by_insert_id_verify_and_a_missing_extra_or_repeated_event_is_caught()
    {
        await using var server = await DestinationServer.StartAsync();
        using var api = new DestinationApiClient(fx.A.BaseAddress, null);
        var c = TestCohort.New("verify-mixpanel");
        var destination = await api.CreateAsync(server.Url, c.Project, batchSize: 2, CancellationToken.None);
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));
        await server.WaitAsync(_ => server.DistinctChanges().Count >= 3, what: "three changes");
        var (feed, _) = await api.FeedAsync(c.Project, destination.StartCursor, CancellationToken.None);
        await api.DeleteAsync(destination.Id, CancellationToken.None);

        // The events Mixpanel would keep for a mixpanel destination, each under the $insert_id the service derives.
        var mixpanelId = Guid.NewGuid();
        ImportedEvent Event(ChangeKey change, string? insertId = null, long time = 1_796_326_354_930) =>
            new("$campaign_delivery", change.DistinctId, time, insertId ?? InsertIdOf(mixpanelId, change.Position),
                new JsonObject { ["cohort_id"] = change.CohortId, ["cohort_change"] = change.Kind });
        DeliveryVerification Check(params ImportedEvent[] events) =>
            DeliveryVerification.Check(feed, server.Hooks, [destination.Secret], 0, [MixpanelSink.Held(mixpanelId.ToString(), feed, events)]);

        var honest = Check([.. feed.Select(f => Event(f))]);
        Assert.True(honest.Passed, string.Join("\n", honest.Examples));
        Assert.Equal((MixpanelSink.Name, 3), (honest.Elsewhere[0].Name, honest.Elsewhere[0].Held));

        var missing = Check([.. feed.Skip(1).Select(f => Event(f))]);
        Assert.Equal((1, 0), (missing.Elsewhere[0].Missing, missing.Elsewhere[0].Unexpected));
        Assert.False(missing.Passed);

        var unknown = Check([.. feed.Select(f => Event(f)), Event(feed[0], insertId: "0123456789abcdef0123456789abcdef")]);
        Assert.Equal((0, 1), (unknown.Elsewhere[0].Missing, unknown.Elsewhere[0].Unexpected));
        Assert.Contains(unknown.Examples, e => e.Contains("unknown $insert_id", StringComparison.Ordinal));

        // Sent again with another time, Mixpanel keeps it twice.
        var repeated = Check([.. feed.Select(f => Event(f)), Event(feed[1], time: 1_796_326_355_930)]);
        Assert.Equal((0, 1), (repeated.Elsewhere[0].Missing, repeated.Elsewhere[0].Unexpected));

        // An insert id of another destination is not this one's event.
        var otherDestination = Check([.. feed.Select(f => Event(f, InsertIdOf(Guid.NewGuid(), f.Position)))]);
        Assert.Equal((3, 3), (otherDestination.Elsewhere[0].Missing, otherDestination.Elsewhere[0].Unexpected));

        var wrongUser = Check([.. feed.Select((f, i) => i == 0 ? Event(f) with { DistinctId = "someone-else" } : Event(f))]);
        Assert.Equal((1, 1), (wrongUser.Elsewhere[0].Missing, wrongUser.Elsewhere[0].Unexpected));
    }

    static string InsertIdOf(Guid destinationId, string position)
    {
        Assert.True(FeedCursor.TryDecode(position, out var cursor), position);
        return InsertId.ForChange(destinationId, new FeedPosition(cursor.CommitPosition, cursor.DistinctId));
    }
}
