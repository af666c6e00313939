using CohortSync.Domain.Tracking;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;

namespace CohortSync.Host.Tests.Destinations;

/// <summary><c>POST /v1/projects/{projectId}/actions</c>: stored once per id, forwarded once to the project's mixpanel destinations.</summary>
[Collection(HostCollection.Name)]
public sealed class ActionReportTests(HostFixture fx)
{
    static string Actions(params (string Id, string User)[] actions) =>
        $$"""{"actions": [{{string.Join(",", actions.Select(a =>
            $$$"""{"id": "{{{a.Id}}}", "distinctId": "{{{a.User}}}", "event": "Message sent", "time": "2026-12-01T10:00:00Z", "properties": {"channel": "sms"}}"""))}}]}""";

    [Fact]
    public async Task Reported_actions_are_stored_once_per_id_and_reach_Mixpanel_once_each()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var project = TestCohort.New("actions").Project;
        await w.CreateAsync(project, """{"region": "US", "token": "t"}""");

        var first = await w.Client.PostApiAsync($"/v1/projects/{project}/actions", Actions(("r1", "a"), ("r2", "b"), ("r1", "a")));
        Assert.Equal(202, first.Code);
        Assert.Equal((2, 1), (first.Body.GetProperty("stored").GetInt32(), first.Body.GetProperty("repeated").GetInt32()));
        await w.Mixpanel.WaitAsync(e => e.Count >= 2);
        var repeat = await w.Client.PostApiAsync($"/v1/projects/{project}/actions", Actions(("r2", "b")));
        Assert.Equal((202, 0, 1), (repeat.Code, repeat.Body.GetProperty("stored").GetInt32(), repeat.Body.GetProperty("repeated").GetInt32()));
        await Task.Delay(1000);

        var events = w.Mixpanel.Events;
        Assert.Equal([("Message sent", "a", InsertId.ForReport(project, "r1")), ("Message sent", "b", InsertId.ForReport(project, "r2"))],
            events.Select(e => (e.Event, e.DistinctId, e.InsertId)));
        Assert.All(events, e => Assert.Equal(DateTimeOffset.Parse("2026-12-01T10:00:00Z").ToUnixTimeMilliseconds(), e.TimeMs));
        Assert.All(events, e => Assert.Equal("sms", e.Properties["channel"]!.GetValue<string>()));
        Assert.Single(w.Mixpanel.Requests);
        await using var db = fx.OpenDatabase(w.Database);
        Assert.Equal(2, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM action_report WHERE project_id = @project", new { project }));
    }

    [Fact]
    public async Task Changes_and_action_reports_of_one_project_both_reach_its_mixpanel_destination()
    {
        await using var w = await MixpanelWorld.StartAsync(fx);
        var c = TestCohort.New("actions-and-changes");
        await w.CreateAsync(c.Project, """{"region": "US", "token": "t"}""");

        await w.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        Assert.Equal(202, (await w.Client.PostApiAsync($"/v1/projects/{c.Project}/actions", Actions(("r1", "a")))).Code);
        await w.Client.PostOkAsync(c.Add("s2", 1, 1, "c"));
        await w.Client.PostOkAsync(c.Remove("s2", 1, 1));
        Assert.Equal(202, (await w.Client.PostApiAsync($"/v1/projects/{c.Project}/actions", Actions(("r2", "c")))).Code);

        var events = await w.Mixpanel.WaitAsync(e => e.Count >= 5);
        Assert.Equal(["$campaign_delivery:a", "$campaign_delivery:b", "$campaign_delivery:c", "Message sent:a", "Message sent:c"],
            events.Select(e => $"{e.Event}:{e.DistinctId}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Bad_actions_are_refused_with_every_problem_named_and_nothing_is_stored()
    {
        var project = TestCohort.New("bad-actions").Project;
        var reply = await fx.Client.PostApiAsync($"/v1/projects/{project}/actions",
            """
            {"actions": [
              {"id": "ok", "distinctId": "a", "event": "Message sent", "time": 1764583200000},
              {"distinctId": "a", "event": "", "time": "2126-01-01T00:00:00Z", "properties": {"time": 1}},
              {"id": "x", "distinctId": "a", "event": "e", "time": "yesterday", "properties": [1]}
            ]}
            """);
        Assert.Equal(400, reply.Code);
        var error = reply.Body.Text("error");
        foreach (var problem in new[] { "actions[1].id", "actions[1].event", "actions[1].time", "actions[1].properties.time", "actions[2].time", "actions[2].properties" })
            Assert.Contains(problem, error);
        Assert.Equal(400, (await fx.Client.PostApiAsync($"/v1/projects/{project}/actions", """{"actions": []}""")).Code);
        Assert.Equal(400, (await fx.Client.PostApiAsync($"/v1/projects/{project}/actions", "not json")).Code);
        await using var db = fx.OpenDatabase();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM action_report WHERE project_id = @project", new { project }));
    }
}
