using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Host.Webhook;
using Microsoft.Extensions.DependencyInjection;
using static CohortSync.Host.Tests.Infrastructure.MetricsScrape;

namespace CohortSync.Host.Tests;

/// <summary>
/// /metrics counts what pages did. A host of its own (each application has its own registry), and
/// differences between two scrapes, never absolute values.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class MetricsTests(HostFixture fx)
{
    static string Page(string action, string outcome) => Series("cohortsync_webhook_pages_total", ("action", action), ("outcome", outcome));
    static string Rejection(string reason) => Series("cohortsync_webhook_rejections_total", ("reason", reason));
    static string Committed(string kind) => Series("cohortsync_sessions_committed_total", ("kind", kind));
    static string Applied(string kind) => Series("cohortsync_members_applied_total", ("kind", kind));
    static string Transitions(string kind) => Series("cohortsync_transitions_recorded_total", ("kind", kind));
    static string CommitCount(string kind) => Series("cohortsync_commit_duration_seconds_count", ("kind", kind));
    static string Requests(string status) =>
        Series("cohortsync_http_request_duration_seconds_count", ("method", "POST"), ("endpoint", WebhookClient.Path), ("status", status));

    const string Superseded = "cohortsync_sessions_superseded_total";
    const string SealedWaiting = "cohortsync_sessions_sealed_waiting";
    const string SealedOldest = "cohortsync_sessions_sealed_oldest_seconds";

    [Fact]
    public async Task Pages_sessions_commits_transitions_rejections_and_requests_are_counted()
    {
        await using var host = await fx.StartHostAsync();
        var client = host.Client;
        var c = TestCohort.New("metrics");
        var before = await TakeAsync(client);

        // A full sync of 3 members in 2 pages, with a duplicate and a late repeat.
        await client.PostOkAsync(c.Members("s1", 1, 2, "a", "b"));
        await client.PostOkAsync(c.Members("s1", 1, 2, "a", "b"));
        await client.PostOkAsync(c.Members("s1", 2, 2, "c"));
        await client.PostOkAsync(c.Members("s1", 2, 2, "c"));
        // A diff session, a members page that conflicts with it, and a newer diff that supersedes it.
        await client.PostOkAsync(c.Add("d1", 1, 1, "d"));
        Assert.Equal(409, (await client.PostAsync(c.Members("d1", 1, 1, "x"))).Code);
        await client.PostOkAsync(c.Add("d2", 1, 1, "e"));
        await client.PostOkAsync(c.Remove("d1", 1, 1));
        await client.PostOkAsync(c.Remove("d2", 1, 1, "a"));
        Assert.Equal(400, (await client.PostRawAsync("{")).Code);
        Assert.Equal(["b", "c", "e"], await fx.Client.MemberIdsAsync(c));

        var after = await TakeWhenAsync(client, s => s[Requests("200")] - before[Requests("200")] >= 8);
        double Delta(string series) => after[series] - before[series];

        var expected = new Dictionary<string, double>
        {
            [Page("members", "stored")] = 1,
            [Page("members", "duplicate")] = 1,
            [Page("members", "sealed")] = 1,
            [Page("members", "already_committed")] = 1,
            [Page("members", "action_conflict")] = 1,
            [Page("add_members", "stored")] = 2,
            [Page("remove_members", "superseded")] = 1,
            [Page("remove_members", "sealed")] = 1,
            [Page("add_members", "sealed")] = 0,
            [Committed("full")] = 1,
            [Committed("diff")] = 1,
            [Superseded] = 1,
            [CommitCount("full")] = 1,
            [CommitCount("diff")] = 1,
            [Applied("full")] = 3,
            [Applied("diff")] = 2,
            [Transitions("entered")] = 4,
            [Transitions("exited")] = 1,
            [Rejection("action_conflict")] = 1,
            [Rejection("invalid_body")] = 1,
            [Rejection("unauthorized")] = 0,
            [Requests("200")] = 8,
            [Requests("409")] = 1,
            [Requests("400")] = 1,
        };
        Assert.Equal(expected, expected.Keys.ToDictionary(k => k, Delta));
    }

    [Fact]
    public async Task Known_series_are_exposed_from_the_start_without_member_data_in_labels()
    {
        await using var host = await fx.StartHostAsync();
        var c = TestCohort.New("labels");
        await host.Client.PostOkAsync(c.Members("session-label-check", 1, 1, "distinct-label-check"));
        var scrape = await TakeWhenAsync(host.Client, s => s[Requests("200")] >= 1);

        Assert.True(scrape.Has(Rejection("unauthorized")));
        Assert.True(scrape.Has(Page("remove_members", "action_conflict")));
        Assert.True(scrape.Has(Transitions("exited")));
        Assert.True(scrape.Has(Series("cohortsync_retention_passes_total", ("result", "skipped"))));
        Assert.True(scrape.Has(Series("cohortsync_retention_deleted_total", ("item", "staged_member"))));
        Assert.True(scrape.Has("process_cpu_seconds_total"));
        Assert.DoesNotContain(scrape.SeriesNames, s =>
            s.Contains(c.Project) || s.Contains(c.Cohort) || s.Contains("session-label-check") || s.Contains("distinct-label-check"));
    }

    [Fact]
    public async Task Sealed_sessions_waiting_for_the_committer_are_counted_with_the_age_of_the_oldest()
    {
        var database = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(
            new Dictionary<string, string?> { ["Commit:InlineMaxMembers"] = "0", ["Commit:CommitterEnabled"] = "false" }, database);
        var c = TestCohort.New("sealed-gauge");
        var none = await TakeAsync(host.Client);
        Assert.Equal((0, 0), (none[SealedWaiting], none[SealedOldest]));

        // Two cohorts' sessions sealed and left waiting (this host's committer is off), one of them a while ago.
        await host.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await host.Client.PostOkAsync(TestCohort.New("sealed-gauge-2").Members("s1", 1, 1, "b"));
        var waiting = await TakeAsync(host.Client);
        Assert.Equal(2, waiting[SealedWaiting]);
        Assert.InRange(waiting[SealedOldest], 1.2, 60);

        await host.App.Services.GetRequiredService<SessionCommitter>().CommitAllAsync(CancellationToken.None);
        var committed = await TakeAsync(host.Client);
        Assert.Equal((0, 0), (committed[SealedWaiting], committed[SealedOldest]));
    }
}
