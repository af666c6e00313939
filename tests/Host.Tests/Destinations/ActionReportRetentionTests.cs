using CohortSync.Domain.Tracking;
using CohortSync.Host.Retention;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>
/// Retention of action reports: a report goes once it is older than <c>Retention:ActionReportDays</c> (30) and
/// every enabled mixpanel destination of its project has formed it into a batch. A host that runs no pass by
/// itself, on a database of its own, with reception times moved back in SQL.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ActionReportRetentionTests(HostFixture fx)
{
    const string Token = """{"region": "US", "token": "t"}""";
    static readonly Dictionary<string, string?> NoPasses = new() { ["Retention:Enabled"] = "false" };
    static readonly string Deleted = MetricsScrape.Series("cohortsync_retention_deleted_total", ("item", "action_report"));

    static async Task ReportAsync(MixpanelWorld w, string project, string id, string user, int stored = 1)
    {
        var reply = await w.Client.PostApiAsync($"/v1/projects/{project}/actions",
            $$"""{"actions": [{"id": "{{id}}", "distinctId": "{{user}}", "event": "Message sent", "time": "2026-12-01T10:00:00Z"}]}""");
        Assert.Equal((202, stored, 1 - stored), (reply.Code, reply.Body.GetProperty("stored").GetInt32(), reply.Body.GetProperty("repeated").GetInt32()));
    }

    static Task AgeAsync(MixpanelWorld w, string project, params string[] ids) =>
        Db.ExecuteAsync(w.Database,
            "UPDATE action_report SET received_at = received_at - interval '40 days' WHERE project_id = @project AND report_id = ANY(@ids)",
            new { project, ids });

    static async Task<string[]> KeptAsync(MixpanelWorld w)
    {
        await using var connection = new NpgsqlConnection(w.Database);
        return [.. await connection.QueryAsync<string>("SELECT report_id FROM action_report ORDER BY report_id")];
    }

    static Task<RetentionReport?> PassAsync(MixpanelWorld w) =>
        w.Host.App.Services.GetRequiredService<RetentionPass>().RunAsync(CancellationToken.None);

    [Fact]
    public async Task Old_reports_go_once_every_enabled_destination_has_formed_them_and_none_is_lost()
    {
        await using var w = await MixpanelWorld.StartAsync(fx, NoPasses);
        var healthy = TestCohort.New("ar-healthy").Project;
        var failing = TestCohort.New("ar-failing").Project;
        var unsent = TestCohort.New("ar-unsent").Project;
        await w.CreateAsync(healthy, Token);
        var failingId = await w.CreateAsync(failing, Token);

        await ReportAsync(w, healthy, "healthy-old", "a");
        await ReportAsync(w, healthy, "healthy-young", "b");
        await w.Mixpanel.WaitAsync(e => e.Count >= 2);
        // Mixpanel refuses the failing project's first batch: it stays pending, and the destination, still
        // enabled, forms nothing more until it is enabled again.
        w.Mixpanel.Fail(401);
        await ReportAsync(w, failing, "failing-formed", "c");
        await w.Client.DeliveriesWhenAsync(failingId, p => p.Text("state") == "failing");
        await ReportAsync(w, failing, "failing-unformed", "d");
        // A project with no mixpanel destination: nothing holds its reports back.
        await ReportAsync(w, unsent, "unsent", "e");
        await AgeAsync(w, healthy, "healthy-old");
        await AgeAsync(w, failing, "failing-formed", "failing-unformed");
        await AgeAsync(w, unsent, "unsent");
        var before = await MetricsScrape.TakeAsync(w.Client);

        Assert.Equal(3, (await PassAsync(w))?.ActionReports);
        Assert.Equal(["failing-unformed", "healthy-young"], await KeptAsync(w));
        Assert.Equal(3, (await MetricsScrape.TakeAsync(w.Client))[Deleted] - before[Deleted]);
        Assert.Equal(0, (await PassAsync(w))?.ActionReports);

        // Enabled again, the destination sends its pending batch (which holds its own copy of the deleted
        // report), then the report it had not formed: Mixpanel has every report.
        Assert.Equal(200, (await w.Client.PatchApiAsync($"/v1/destinations/{failingId}", """{"enabled": true}""")).Code);
        var events = await w.Mixpanel.WaitAsync(e => e.Count >= 4);
        Assert.Equal(["a", "b", "c", "d"], events.Select(e => e.DistinctId).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Disabling a destination stops its sending, and it holds no report back: as with the change feed, a
    /// destination enabled again after the retention age has missed what went meanwhile.
    /// </summary>
    [Fact]
    public async Task A_disabled_destination_holds_no_report_back()
    {
        await using var w = await MixpanelWorld.StartAsync(fx, NoPasses);
        var project = TestCohort.New("ar-disabled").Project;
        await w.CreateAsync(project, Token);
        var disabled = await w.CreateAsync(project, Token);
        Assert.Equal(200, (await w.Client.PatchApiAsync($"/v1/destinations/{disabled}", """{"enabled": false}""")).Code);

        await ReportAsync(w, project, "r1", "a");
        await w.Mixpanel.WaitAsync(e => e.Count >= 1);
        await AgeAsync(w, project, "r1");

        Assert.Equal(1, (await PassAsync(w))?.ActionReports);
        Assert.Empty(await KeptAsync(w));
    }

    /// <summary>
    /// A repeat is known by the stored report, so a repeat that comes after retention deleted the report is
    /// taken as new and sent again; it carries the same <c>$insert_id</c>, and Mixpanel keeps the event once.
    /// </summary>
    [Fact]
    public async Task A_report_repeated_after_retention_deleted_it_is_sent_again_and_Mixpanel_keeps_it_once()
    {
        await using var w = await MixpanelWorld.StartAsync(fx, NoPasses);
        var project = TestCohort.New("ar-repeat").Project;
        await w.CreateAsync(project, Token);
        await ReportAsync(w, project, "r1", "a");
        await w.Mixpanel.WaitAsync(e => e.Count >= 1);
        await ReportAsync(w, project, "r1", "a", stored: 0);
        await AgeAsync(w, project, "r1");
        Assert.Equal(1, (await PassAsync(w))?.ActionReports);

        await ReportAsync(w, project, "r1", "a", stored: 1);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (w.Mixpanel.Requests.Count(r => r.Status == 200) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(50);

        Assert.Equal(2, w.Mixpanel.Requests.Count(r => r.Status == 200 && r.EventCount == 1));
        Assert.Equal([("a", InsertId.ForReport(project, "r1"))], w.Mixpanel.Events.Select(e => (e.DistinctId, e.InsertId)));
    }
}
