using System.Net;
using CohortSync.Host.Tests.Infrastructure;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;
using static CohortSync.Host.Tests.Infrastructure.Users;

namespace CohortSync.Host.Tests;

/// <summary>A user across the cohorts of a project, and the log of refused webhook requests.</summary>
[Collection(HostCollection.Name)]
public sealed class UserAndRejectionQueryTests(HostFixture fx)
{
    [Fact]
    public async Task A_user_shows_the_latest_profile_and_the_cohorts_it_is_in_now()
    {
        var c1 = TestCohort.New("user");
        var c2 = c1 with { Cohort = c1.Cohort + "-b" };
        var c3 = c1 with { Cohort = c1.Cohort + "-c" };
        await fx.Client.PostOkAsync(c1.Page(CohortSync.Domain.WebhookAction.Members, "s1", 1, 1, [M("U", "old@example.com", "Ursula")]));
        await fx.Client.PostOkAsync(c2.Page(CohortSync.Domain.WebhookAction.Members, "s1", 1, 1, [M("U", "new@example.com", properties: """{"tier":2}""")]));
        await fx.Client.PostOkAsync(c3.Members("s1", 1, 1, "U"));
        await fx.Client.PostOkAsync(c3.Members("s2", 1, 1, "someone-else"));

        var user = await fx.Client.GetOkAsync(PathOf("v1", "users", c1.Project, "U"));
        Assert.Equal((c1.Project, "U"), (user.Text("projectId"), user.Text("distinctId")));
        var profile = user.GetProperty("profile");
        Assert.Equal(("new@example.com", "Ursula", 2), (profile.Text("email"), profile.Text("firstName"), profile.GetProperty("properties").GetProperty("tier").GetInt32()));
        var cohorts = user.GetProperty("cohorts").EnumerateArray().ToList();
        Assert.Equal([c1.Cohort, c2.Cohort], cohorts.Select(c => c.Text("cohortId")));
        Assert.Equal($"cohort {c1.Cohort}", cohorts[0].Text("name"));
        Assert.All(cohorts, c => c.GetProperty("enteredAt").GetDateTime());

        Assert.Equal($"no user nobody in project {c1.Project}", await fx.Client.GetNotFoundAsync(PathOf("v1", "users", c1.Project, "nobody")));
        await fx.Client.GetNotFoundAsync(PathOf("v1", "users", TestCohort.New("other").Project, "U"));
    }

    [Fact]
    public async Task Rejections_are_listed_newest_first_with_reason_and_status_and_page_to_the_end()
    {
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        var cohorts = Enumerable.Range(0, 3).Select(i => TestCohort.New($"refused{i}")).ToArray();
        foreach (var c in cohorts)
        {
            // A members page for a diff session: 409, recorded with the page's ids.
            await fx.Client.PostOkAsync(c.Add("s1", 1, 2, "a"));
            Assert.Equal(HttpStatusCode.Conflict, (await fx.Client.PostAsync(c.Members("s1", 1, 1, "a"))).Status);
        }
        Assert.Equal(3, (await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rows => rows.Count >= 3)).Count);

        var newest = await fx.Client.GetOkAsync("/v1/rejections?limit=2");
        var top = newest.GetProperty("rejections").EnumerateArray().ToList();
        Assert.Equal([cohorts[2].Cohort, cohorts[1].Cohort], top.Select(r => r.Text("cohortId")));
        Assert.All(top, r => Assert.Equal((409, "action_conflict", "members", "s1"),
            (r.GetProperty("status").GetInt32(), r.Text("reason"), r.Text("action"), r.Text("sessionId"))));
        Assert.Equal(cohorts[2].Project, top[0].Text("projectId"));
        Assert.False(string.IsNullOrEmpty(top[0].Text("message")));

        var then = await fx.Client.GetOkAsync($"/v1/rejections?limit=1&after={Uri.EscapeDataString(newest.Text("next"))}");
        Assert.Equal(cohorts[0].Cohort, then.GetProperty("rejections")[0].Text("cohortId"));

        // To the end: as many as are recorded, ours first.
        var all = await fx.Client.GetAllPagesAsync("/v1/rejections", "rejections", limit: 25);
        Assert.Equal(cohorts.Reverse().Select(c => c.Cohort), all.Take(3).Select(r => r.Text("cohortId")));
        await using var connection = fx.OpenDatabase();
        Assert.Equal(await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM rejected_request"), all.Count);
    }

    [Fact]
    public async Task A_users_history_lists_every_entered_and_exited_across_cohorts_newest_first_in_pages()
    {
        var c1 = TestCohort.New("history");
        var c2 = c1 with { Cohort = c1.Cohort + "-b" };
        // A diff session commits once both its actions are in; "ghost" was never a member, so removing them records nothing.
        async Task DiffAsync(TestCohort c, string session, string[] added, string removed)
        {
            await fx.Client.PostOkAsync(c.Add(session, 1, 1, added));
            await fx.Client.PostOkAsync(c.Remove(session, 1, 1, removed));
        }
        await fx.Client.PostOkAsync(c1.Members("s1", 1, 1, "U", "other"));
        await fx.Client.PostOkAsync(c2.Members("s1", 1, 1, "U"));
        await DiffAsync(c1, "s2", ["newcomer"], "U");
        // A commit that records others only is passed over.
        await DiffAsync(c2, "s2", ["someone-else"], "ghost");
        // Many users in one commit: the user is found in the chunk that holds them, not only the first.
        await DiffAsync(c2, "s3", Ids("a", 1500), "ghost");
        await DiffAsync(c2, "s4", [.. Ids("zz", 1500), "zz01234x"], "ghost");

        var all = await fx.Client.GetAllPagesAsync(PathOf("v1", "users", c1.Project, "U") + "/history", "transitions", limit: 1);
        Assert.Equal(
            [("exited", c1.Cohort, "s2"), ("entered", c2.Cohort, "s1"), ("entered", c1.Cohort, "s1")],
            all.Select(t => (t.Text("kind"), t.Text("cohortId"), t.Text("sessionId"))));
        Assert.Equal($"cohort {c1.Cohort}", all[0].Text("cohortName"));
        Assert.True(all[0].GetProperty("recordedAt").GetDateTime() >= all[2].GetProperty("recordedAt").GetDateTime());

        var deep = await fx.Client.GetOkAsync(PathOf("v1", "users", c1.Project, "a01499") + "/history");
        Assert.Equal(["s3"], deep.GetProperty("transitions").EnumerateArray().Select(t => t.Text("sessionId")));
        var late = await fx.Client.GetOkAsync(PathOf("v1", "users", c1.Project, "zz01234x") + "/history");
        Assert.Equal(["s4"], late.GetProperty("transitions").EnumerateArray().Select(t => t.Text("sessionId")));

        Assert.Equal($"no user nobody in project {c1.Project}", await fx.Client.GetNotFoundAsync(PathOf("v1", "users", c1.Project, "nobody") + "/history"));
        await fx.Client.GetNotFoundAsync(PathOf("v1", "users", TestCohort.New("other").Project, "U") + "/history");
    }

    [Fact]
    public async Task Rejections_filter_by_project_and_cohort()
    {
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        var cohorts = Enumerable.Range(0, 2).Select(i => TestCohort.New($"filtered{i}")).ToArray();
        foreach (var c in cohorts)
        {
            await fx.Client.PostOkAsync(c.Add("s1", 1, 2, "a"));
            Assert.Equal(HttpStatusCode.Conflict, (await fx.Client.PostAsync(c.Members("s1", 1, 1, "a"))).Status);
        }
        await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rows => rows.Count >= 2);

        var one = await fx.Client.GetOkAsync($"/v1/rejections?projectId={cohorts[0].Project}&cohortId={cohorts[0].Cohort}");
        Assert.Equal([cohorts[0].Cohort], one.GetProperty("rejections").EnumerateArray().Select(r => r.Text("cohortId")));
        var byCohort = await fx.Client.GetOkAsync($"/v1/rejections?cohortId={cohorts[1].Cohort}");
        Assert.Equal([cohorts[1].Cohort], byCohort.GetProperty("rejections").EnumerateArray().Select(r => r.Text("cohortId")));
        var none = await fx.Client.GetOkAsync($"/v1/rejections?projectId={cohorts[0].Project}&cohortId={cohorts[1].Cohort}");
        Assert.Equal(0, none.GetProperty("rejections").GetArrayLength());
    }
}
