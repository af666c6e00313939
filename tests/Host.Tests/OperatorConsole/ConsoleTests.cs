using System.Net;
using System.Text.Json;
using CohortSync.Domain;
using CohortSync.Host.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;

namespace CohortSync.Host.Tests.OperatorConsole;

/// <summary>
/// The console as an operator sees it, in a real browser: syncs are posted through the webhook, then
/// the pages are read for what they say, and against /v1.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ConsoleTests(HostFixture fx, Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>
{
    /// <summary>Three cohorts of one project: committed, half received, and refused once.</summary>
    async Task<(TestCohort Committed, TestCohort Open, TestCohort Refused)> SyncThreeAsync(string label)
    {
        var project = TestCohort.New(label).Project;
        TestCohort Named(string name) => new(project, $"{name}-{Guid.NewGuid().ToString("N")[..6]}");
        var committed = Named("committed");
        var open = Named("open");
        var refused = Named("refused");

        foreach (var page in committed.FullSync("s1", Users.Ids("u", 3), pageSize: 2))
            await fx.Client.PostOkAsync(page);
        await fx.Client.PostOkAsync(open.Members("s1", 1, 5, "a"));
        await fx.Client.PostOkAsync(open.Members("s1", 2, 5, "b"));
        await fx.Client.PostOkAsync(refused.Members("s1", 1, 1, "x"));
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        await fx.Client.PostOkAsync(refused.Add("s2", 1, 2, "y"));
        Assert.Equal(HttpStatusCode.Conflict, (await fx.Client.PostAsync(refused.Members("s2", 1, 1, "y"))).Status);
        await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rows => rows.Count >= 1);
        return (committed, open, refused);
    }

    static ILocator Row(IPage page, TestCohort c) => page.Locator($"tr[data-project='{c.Project}'][data-cohort='{c.Cohort}']");

    [Fact]
    public async Task Overview_shows_members_last_commit_open_progress_rejections_and_health()
    {
        var (committed, open, refused) = await SyncThreeAsync("overview");
        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync($"/console?q={committed.Project}&sort=cohort");

        Assert.Equal("3", await Row(page, committed).Locator("[data-members]").InnerTextAsync());
        Assert.Contains("healthy", await Row(page, committed).InnerTextAsync());
        Assert.Contains("committed", await Row(page, committed).InnerTextAsync());

        var openRow = await Row(page, open).InnerTextAsync();
        Assert.Contains("open", openRow);
        Assert.Contains("page 2 of 5", openRow);
        Assert.Contains("waiting", openRow);
        Assert.Equal("0", await Row(page, open).Locator("[data-members]").InnerTextAsync());

        Assert.Equal("1", await Row(page, refused).Locator("[data-rejections]").InnerTextAsync());
        Assert.Equal(3, await page.Locator("#cohorts tbody tr").CountAsync());
        // Relative time in the cell, the absolute time on hover.
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", await Row(page, committed).Locator("time").GetAttributeAsync("title"));

        output.WriteLine("overview: " + await Chromium.ScreenshotAsync(page, "overview"));

        await page.GotoAsync($"/console?q={committed.Project}&health=waiting");
        Assert.Equal(1, await page.Locator("#cohorts tbody tr").CountAsync());
        Assert.Equal(1, await Row(page, open).CountAsync());
    }

    [Fact]
    public async Task Overview_numbers_are_those_of_v1()
    {
        var (committed, open, refused) = await SyncThreeAsync("same");
        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync($"/console?q={committed.Project}");
        foreach (var c in new[] { committed, open, refused })
        {
            var json = await fx.Client.GetOkAsync(PathOf("v1", "cohorts", c.Project, c.Cohort));
            var row = Row(page, c);
            Assert.Equal(json.GetProperty("memberCount").GetInt64().ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                await row.Locator("[data-members]").InnerTextAsync());
            Assert.Contains(json.GetProperty("lastSession").GetProperty("state").GetString()!, await row.InnerTextAsync());
            Assert.Equal(json.GetProperty("name").GetString(), await row.Locator("a").First.InnerTextAsync());
        }
        Assert.Equal("/v1/cohorts", await page.GetByRole(AriaRole.Link, new() { Name = "JSON in /v1" }).GetAttributeAsync("href"));
    }

    [Fact]
    public async Task Cohort_page_draws_commits_lists_sessions_and_transitions_and_finds_members()
    {
        var cohort = TestCohort.New("cohortpage");
        await fx.Client.PostOkAsync(cohort.Page(WebhookAction.Members, "s1", 1, 1,
            [Users.M("alice", email: "alice@example.com", firstName: "Alice"), Users.M("bob"), Users.M("carol")]));
        await fx.Client.PostOkAsync(cohort.Add("s2", 1, 1, "dave"));
        await fx.Client.PostOkAsync(cohort.Remove("s2", 1, 1, "bob"));
        await fx.Client.PostOkAsync(cohort.Add("s3", 1, 3, "erin"));

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync($"/console/cohorts/{cohort.Project}/{cohort.Cohort}");
        Assert.Equal("3", await page.Locator(".card [data-members]").InnerTextAsync());
        Assert.Equal(2, await page.Locator("svg.chart circle").CountAsync());

        var sessions = page.Locator("#session-table tbody tr");
        Assert.Equal(3, await sessions.CountAsync());
        var s3 = await page.Locator("tr[data-session='s3']").InnerTextAsync();
        Assert.Contains("open", s3);
        Assert.Contains("page 1 of 3", s3);
        var s2 = page.Locator("tr[data-session='s2'] td.num");
        Assert.Equal(["1", "1"], (await s2.AllInnerTextsAsync()).Take(2));

        var transitions = await page.Locator("#transition-table tbody").InnerTextAsync();
        Assert.Contains("dave", transitions);
        Assert.Contains("entered", transitions);
        Assert.Contains("bob", transitions);
        Assert.Contains("exited", transitions);
        output.WriteLine("cohort: " + await Chromium.ScreenshotAsync(page, "cohort"));

        await page.GetByLabel("Distinct id or email").FillAsync("ALICE@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        var found = await page.Locator("[data-search-result='alice']").InnerTextAsync();
        Assert.Contains("is a member of this cohort", found);
        Assert.Contains("this one", found);

        await page.GetByLabel("Distinct id or email").FillAsync("bob");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        Assert.Contains("is not a member", await page.Locator("[data-search-result='bob']").InnerTextAsync());

        await page.GotoAsync($"/console/cohorts/{cohort.Project}/{cohort.Cohort}?member=nobody");
        Assert.Equal(1, await page.Locator("[data-search-result='none']").CountAsync());
        output.WriteLine("member search: " + await Chromium.ScreenshotAsync(page, "member-search"));
    }

    [Fact]
    public async Task Rejections_page_shows_the_message_Mixpanel_would_show()
    {
        var (_, _, refused) = await SyncThreeAsync("rejections");
        // A body without its parameters: 400, its message naming each problem by its path in the body.
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Client.PostRawAsync("""{"action": "members"}""")).Status);
        await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rows => rows.Count >= 1);
        var json = (await fx.Client.GetOkAsync("/v1/rejections?limit=2")).GetProperty("rejections");
        Assert.Equal(refused.Cohort, json[1].GetProperty("cohortId").GetString());

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync("/console/rejections");
        var rows = page.Locator("#rejections tbody tr");
        var invalid = rows.Nth(0);
        Assert.Equal(json[0].GetProperty("message").GetString(), await invalid.Locator("[data-message]").InnerTextAsync());
        Assert.Contains("parameters", await invalid.Locator("[data-message]").InnerTextAsync());
        Assert.Contains("invalid_body", await invalid.InnerTextAsync());
        Assert.Contains("pauses sync", await invalid.InnerTextAsync());
        var conflict = rows.Nth(1);
        Assert.Equal(json[1].GetProperty("message").GetString(), await conflict.Locator("[data-message]").InnerTextAsync());
        Assert.Contains("409", await conflict.InnerTextAsync());
        Assert.Contains("action_conflict", await conflict.InnerTextAsync());
        Assert.DoesNotContain("pauses sync", await conflict.InnerTextAsync());
        output.WriteLine("rejections: " + await Chromium.ScreenshotAsync(page, "rejections"));
    }

    [Fact]
    public async Task Rejections_page_filters_by_cohort_and_links_to_the_same_query_in_v1()
    {
        var (committed, _, refused) = await SyncThreeAsync("filter");
        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        // From the cohort's page, its rejections card leads to the list of its refusals only.
        await page.GotoAsync($"/console/cohorts/{refused.Project}/{refused.Cohort}");
        await page.Locator("a.card", new() { HasText = "rejections 24 h" }).ClickAsync();
        Assert.Equal(refused.Project, await page.GetByLabel("Project").InputValueAsync());
        Assert.Equal(refused.Cohort, await page.GetByLabel("Cohort id").InputValueAsync());
        var rows = page.Locator("#rejections tbody tr");
        Assert.Equal(1, await rows.CountAsync());
        Assert.Contains($"{refused.Project} / {refused.Cohort}", await rows.First.InnerTextAsync());
        output.WriteLine("rejections of a cohort: " + await Chromium.ScreenshotAsync(page, "rejections-cohort"));

        var json = await page.Locator("[data-json]").GetAttributeAsync("href");
        Assert.Equal($"/v1/rejections?projectId={refused.Project}&cohortId={refused.Cohort}", json);
        Assert.Equal("/v1/rejections?projectId=" + refused.Project + "&cohortId=" + refused.Cohort,
            await page.GetByRole(AriaRole.Link, new() { Name = "JSON in /v1" }).GetAttributeAsync("href"));
        var listed = (await fx.Client.GetOkAsync(json!)).GetProperty("rejections");
        Assert.Equal(1, listed.GetArrayLength());
        Assert.Equal(listed[0].GetProperty("message").GetString(), await rows.First.Locator("[data-message]").InnerTextAsync());

        // Typed into the form: a cohort that was never refused lists nothing.
        await page.GetByLabel("Cohort id").FillAsync(committed.Cohort);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        Assert.Equal(0, await rows.CountAsync());
        Assert.Equal(1, await page.Locator("[data-rejections='none']").CountAsync());
    }

    [Fact]
    public async Task Cohort_page_draws_the_sessions_timeline_with_each_status_in_words()
    {
        var cohort = TestCohort.New("timeline");
        await fx.Client.PostOkAsync(cohort.Members("s1", 1, 1, "a", "b"));
        await fx.Client.PostOkAsync(cohort.Add("s2", 1, 2, "c"));
        // A full copy while s2 is half received: s2 is superseded by it.
        await fx.Client.PostOkAsync(cohort.Members("s3", 1, 1, "a", "d"));
        await fx.Client.PostOkAsync(cohort.Add("s4", 1, 2, "e"));

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync($"/console/cohorts/{cohort.Project}/{cohort.Cohort}");
        var bars = page.Locator("svg.timeline rect[data-session]");
        Assert.Equal(["s1", "s2", "s3", "s4"], await bars.EvaluateAllAsync<string[]>("bars => bars.map(b => b.dataset.session)"));
        Assert.Equal("tl-superseded", await page.Locator("svg.timeline rect[data-session='s2']").GetAttributeAsync("class"));
        Assert.Equal("tl-open", await page.Locator("svg.timeline rect[data-session='s4']").GetAttributeAsync("class"));
        var labels = await page.Locator("svg.timeline").TextContentAsync();
        Assert.Contains("superseded by s3", labels);
        Assert.Contains("✓ committed", labels);

        // The text equivalent says the same in words, one line a session.
        await page.GetByText("The timeline as text").ClickAsync();
        var s2 = await page.Locator(".timeline-text li[data-session='s2']").InnerTextAsync();
        Assert.StartsWith("s2: superseded by s3, ", s2);
        Assert.Contains("to now", await page.Locator(".timeline-text li[data-session='s4']").InnerTextAsync());
        output.WriteLine("timeline: " + await Chromium.ScreenshotAsync(page, "cohort-timeline"));
    }

    [Fact]
    public async Task Consumers_page_shows_how_far_behind_a_consumer_is()
    {
        var name = $"worker-{Guid.NewGuid().ToString("N")[..8]}";
        var cohort = TestCohort.New("consumer");
        await fx.Client.PostOkAsync(cohort.Members("s1", 1, 1, "a"));
        await fx.Client.PostOkAsync(cohort.Add("s2", 1, 1, "b"));

        // At the start of the feed: every commit is behind.
        var start = await fx.Client.GetOkAsync("/v1/events?limit=1");
        await fx.Client.PutApiAsync($"/v1/consumers/{name}/cursor", JsonSerializer.Serialize(new { cursor = start.GetProperty("events")[0].GetProperty("cursor").GetString() }));
        await using var connection = fx.OpenDatabase();
        var commits = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT count(*) FROM sync_session WHERE commit_position IS NOT NULL");

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync("/console/consumers");
        var row = page.Locator($"tr[data-consumer='{name}']");
        Assert.Equal(commits.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), await row.Locator("[data-behind]").InnerTextAsync());
        output.WriteLine("consumers: " + await Chromium.ScreenshotAsync(page, "consumers"));

        // Read to the end: caught up.
        var after = start.GetProperty("events")[0].GetProperty("cursor").GetString()!;
        while (true)
        {
            var read = await fx.Client.GetOkAsync($"/v1/events?limit=1000&after={Uri.EscapeDataString(after)}");
            after = read.GetProperty("next").GetString()!;
            if (read.GetProperty("events").GetArrayLength() < 1000)
                break;
        }
        await fx.Client.PutApiAsync($"/v1/consumers/{name}/cursor", JsonSerializer.Serialize(new { cursor = after }));
        await page.ReloadAsync();
        Assert.Equal("0", await row.Locator("[data-behind]").InnerTextAsync());
        Assert.Contains("caught up", await row.InnerTextAsync());
    }

    [Fact]
    public async Task At_phone_width_the_page_does_not_scroll_sideways()
    {
        var (committed, _, _) = await SyncThreeAsync("phone");
        var page = await chromium.NewPageAsync(fx.A.BaseAddress, width: 390, height: 844);
        foreach (var path in new[] { $"/console?q={committed.Project}", $"/console/cohorts/{committed.Project}/{committed.Cohort}", "/console/rejections", "/console/consumers" })
        {
            await page.GotoAsync(path);
            Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), $"{path} is wider than the phone");
        }
        await page.GotoAsync($"/console?q={committed.Project}");
        output.WriteLine("phone: " + await Chromium.ScreenshotAsync(page, "overview-phone"));
    }

    [Fact]
    public void Every_session_state_of_the_domain_has_a_badge()
    {
        Assert.Empty(global::CohortSync.Host.OperatorConsole.StateBadge.Undescribed);
        Assert.Contains("state-other", global::CohortSync.Host.OperatorConsole.StateBadge.For("a-state-not-yet-described"));
    }
}
