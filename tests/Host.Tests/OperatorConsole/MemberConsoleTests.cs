using CohortSync.Domain;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;

namespace CohortSync.Host.Tests.OperatorConsole;

/// <summary>A member found from a cohort's page, and their page: profile, cohorts now, and their history across cohorts.</summary>
[Collection(HostCollection.Name)]
public sealed class MemberConsoleTests(HostFixture fx, Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>
{
    [Fact]
    public async Task A_member_found_by_email_has_a_page_with_profile_cohorts_and_history_newest_first_as_in_v1()
    {
        var first = TestCohort.New("member");
        var second = first with { Cohort = first.Cohort + "-b" };
        await fx.Client.PostOkAsync(first.Page(WebhookAction.Members, "s1", 1, 1,
            [Users.M("alice", email: "Alice@Example.com", firstName: "Alice", properties: """{"plan":"pro"}"""), Users.M("bob")]));
        await fx.Client.PostOkAsync(second.Page(WebhookAction.Members, "f1", 1, 1, [Users.M("alice", email: "Alice@Example.com", firstName: "Alice")]));
        await fx.Client.PostOkAsync(first.Add("s2", 1, 1, "carol"));
        await fx.Client.PostOkAsync(first.Remove("s2", 1, 1, "alice"));

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync($"/console/cohorts/{first.Project}/{first.Cohort}");
        await page.GetByLabel("Distinct id or email").FillAsync("alice@example.COM");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await page.Locator("[data-search-result='alice']").GetByRole(AriaRole.Link, new() { Name = "Profile and history across cohorts" }).ClickAsync();
        Assert.EndsWith($"/console/users/{first.Project}/alice", page.Url);

        var profile = await page.Locator("dl.profile").InnerTextAsync();
        Assert.Contains("Alice@Example.com", profile);
        Assert.Contains("Alice", profile);
        Assert.Equal([second.Cohort], await page.Locator("#user-cohorts li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.cohort)"));

        var rows = page.Locator("#history-table tbody tr");
        var shown = new List<(string?, string?, string)>();
        for (var i = 0; i < await rows.CountAsync(); i++)
            shown.Add((await rows.Nth(i).GetAttributeAsync("data-kind"), await rows.Nth(i).GetAttributeAsync("data-cohort"), await rows.Nth(i).Locator("td.id").InnerTextAsync()));
        Assert.Equal([("exited", first.Cohort, "s2"), ("entered", second.Cohort, "f1"), ("entered", first.Cohort, "s1")], shown);
        Assert.Contains("− exited", await rows.First.InnerTextAsync());
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", await rows.First.Locator("time").GetAttributeAsync("title"));
        output.WriteLine("member: " + await Chromium.ScreenshotAsync(page, "member"));

        // What the page lists is what /v1 says, and the page links to it.
        var json = await fx.Client.GetOkAsync(PathOf("v1", "users", first.Project, "alice") + "/history");
        Assert.Equal(shown.Select(s => (s.Item1, s.Item2, s.Item3)),
            json.GetProperty("transitions").EnumerateArray().Select(t => ((string?)t.Text("kind"), (string?)t.Text("cohortId"), t.Text("sessionId"))));
        await page.GetByRole(AriaRole.Link, new() { Name = "/v1", Exact = true }).ClickAsync();
        Assert.EndsWith($"/v1/users/{first.Project}/alice/history", page.Url);

        var phone = await chromium.NewPageAsync(fx.A.BaseAddress, width: 390, height: 844);
        await phone.GotoAsync($"/console/users/{first.Project}/alice");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the member page is wider than the phone");
        Assert.Equal(404, (await phone.GotoAsync($"/console/users/{first.Project}/nobody"))!.Status);
    }

    /// <summary>The plan of <paramref name="sql"/> after <paramref name="setUp"/>, in a transaction rolled back after.</summary>
    static async Task<string> PlanAsync(Npgsql.NpgsqlConnection connection, string setUp, string sql, object parameters)
    {
        await using var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(setUp, transaction: tx);
        var plan = string.Join("\n", await connection.QueryAsync<string>("EXPLAIN " + sql, parameters, tx));
        await tx.RollbackAsync();
        return plan;
    }

    [Fact]
    public async Task Member_search_by_email_and_a_users_history_are_served_by_indexes()
    {
        await using var connection = fx.OpenDatabase();
        // A project of 20,000 profiles, its statistics gathered: the plan a real project gets.
        var byEmail = await PlanAsync(connection,
            """
            INSERT INTO user_profile (project_id, distinct_id, email)
            SELECT 'explain-project', 'u' || i, 'user' || i || '@example.com' FROM generate_series(1, 20000) AS i;
            ANALYZE user_profile;
            """,
            Host.OperatorConsole.ConsoleQueries.ByEmailSql, new { projectId = "explain-project", email = "USER77@example.com" });
        Assert.Contains("user_profile_email", byEmail);
        Assert.DoesNotContain("Seq Scan", byEmail);

        // Sequential scans priced out: a plan that still scans has no index to use.
        var history = await PlanAsync(connection, "SET LOCAL enable_seqscan = off", Host.UserProfiles.UserQueries.HistorySql,
            new { projectId = "p", distinctId = "u", beforePosition = long.MaxValue, take = 50 });
        Assert.Contains("transition_chunk_last_id", history);
        Assert.DoesNotContain("Seq Scan", history);
    }
}
