using System.Net;
using CohortSync.Host.Tests.Destinations;
using CohortSync.Host.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace CohortSync.Host.Tests.OperatorConsole;

/// <summary>With API keys configured, an operator signs in with one and sees the projects it covers, nothing else.</summary>
[Collection(HostCollection.Name)]
public sealed class ConsoleAccessTests(HostFixture fx, Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>
{
    const string OneProjectKey = "console-key-for-one-project";
    const string EveryProjectKey = "console-key-for-every-project";
    static readonly System.Net.Http.Headers.AuthenticationHeaderValue Sender = WebhookClient.Basic("mixpanel", "webhook-password");
    static readonly System.Net.Http.Headers.AuthenticationHeaderValue OneProjectSender = WebhookClient.Basic("mixpanel-one", "other-password");

    Task<RunningHost> StartAsync(string project) => fx.StartHostAsync(new Dictionary<string, string?>
    {
        ["Api:AllowAnonymous"] = "false",
        ["Webhook:AllowAnonymous"] = "false",
        ["Api:Keys:0:Key"] = OneProjectKey,
        ["Api:Keys:0:Projects:0"] = project,
        ["Api:Keys:1:Key"] = EveryProjectKey,
        ["Webhook:Credentials:0:Username"] = "mixpanel",
        ["Webhook:Credentials:0:Password"] = "webhook-password",
        ["Webhook:Credentials:1:Username"] = "mixpanel-one",
        ["Webhook:Credentials:1:Password"] = "other-password",
        ["Webhook:Credentials:1:Projects:0"] = project,
    });

    static ILocator Row(IPage page, TestCohort c) => page.Locator($"tr[data-project='{c.Project}'][data-cohort='{c.Cohort}']");

    static async Task SignInAsync(IPage page, string key)
    {
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    [Fact]
    public async Task An_operator_signs_in_with_a_key_and_sees_only_its_projects()
    {
        var mine = TestCohort.New("signin");
        var other = TestCohort.New("notmine");
        await using var host = await StartAsync(mine.Project);
        await host.Client.PostOkAsync(mine.Members("s1", 1, 1, "a", "b"), Sender);
        await host.Client.PostOkAsync(other.Members("s1", 1, 1, "c"), Sender);

        var page = await chromium.NewPageAsync(host.BaseAddress);
        await page.GotoAsync("/console");
        Assert.EndsWith("/console/sign-in", page.Url);
        output.WriteLine("sign-in: " + await Chromium.ScreenshotAsync(page, "sign-in"));

        await SignInAsync(page, "not-a-key");
        Assert.Contains("That is not an API key", await page.Locator("[role=alert]").InnerTextAsync());

        await SignInAsync(page, OneProjectKey);
        Assert.EndsWith("/console", page.Url);
        Assert.Equal("2", await Row(page, mine).Locator("[data-members]").InnerTextAsync());
        Assert.Equal(0, await Row(page, other).CountAsync());
        var response = await page.GotoAsync($"/console/cohorts/{other.Project}/{other.Cohort}");
        Assert.Equal(404, response!.Status);

        // Another project's destination is not this key's to see: its destinations section says there are none.
        await using var destination = await DestinationServer.StartAsync();
        var (otherDestination, _) = await host.Client.CreateDestinationAsync(destination.Url, other.Project, key: EveryProjectKey);
        await page.GotoAsync("/console/consumers");
        Assert.Equal(1, await page.Locator("[data-destinations='none']").CountAsync());
        Assert.Equal(0, await page.Locator("tr[data-destination]").CountAsync());
        // Nor to replay: its confirmation page is a 404, as in /v1.
        Assert.Equal(404, (await page.GotoAsync($"/console/destinations/{otherDestination}/replay"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"/console/users/{other.Project}/c"))!.Status);

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "cohortsync_console_key");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/console", cookie.Path);

        await page.GotoAsync("/console");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        Assert.EndsWith("/console/sign-in", page.Url);
        await page.GotoAsync("/console");
        Assert.EndsWith("/console/sign-in", page.Url);
    }

    [Fact]
    public async Task Without_a_browser_the_key_goes_in_the_header_and_forms_need_their_token()
    {
        var mine = TestCohort.New("header");
        await using var host = await StartAsync(mine.Project);

        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/console");
        withKey.Headers.Authorization = new("Bearer", OneProjectKey);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(withKey)).StatusCode);

        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, "/console/rejections");
        wrongKey.Headers.Authorization = new("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.SendAsync(wrongKey)).StatusCode);

        // A sign-in posted from elsewhere carries no antiforgery token: refused, and no key cookie is set.
        var forged = await host.Client.PostAsync("/console/sign-in", new FormUrlEncodedContent([new("key", OneProjectKey)]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.DoesNotContain(forged.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith("cohortsync_console_key="));
    }

    [Fact]
    public async Task Without_keys_the_console_answers_this_machine_only()
    {
        const string proxyAddress = "127.0.0.5";
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Security:KnownProxies:0"] = proxyAddress });
        using var proxy = LoopbackClient.From(proxyAddress, host.BaseAddress);
        async Task<HttpResponseMessage> GetForAsync(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/console");
            request.Headers.Add("X-Forwarded-For", client);
            return await proxy.SendAsync(request);
        }

        var remote = await GetForAsync("198.51.100.7");
        Assert.Equal(HttpStatusCode.Forbidden, remote.StatusCode);
        Assert.Contains("this machine only", await remote.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await GetForAsync("127.0.0.9")).StatusCode);
    }

    [Fact]
    public async Task A_refusal_Mixpanel_pauses_on_shows_the_cohort_as_pausing()
    {
        var allowed = TestCohort.New("allowed");
        var paused = TestCohort.New("paused");
        await using var host = await StartAsync(allowed.Project);
        await host.Client.PostOkAsync(paused.Members("s1", 1, 1, "a"), Sender);
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        // These credentials may sync the other project only: 403, recorded with the page's ids.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client.PostAsync(paused.Members("s2", 1, 1, "a"), OneProjectSender)).Status);
        await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rows => rows.Count >= 1);

        var page = await chromium.NewPageAsync(host.BaseAddress);
        await page.GotoAsync("/console/sign-in");
        await SignInAsync(page, EveryProjectKey);
        await page.GotoAsync($"/console?q={paused.Project}");
        Assert.Contains("pausing", await Row(page, paused).InnerTextAsync());
        Assert.Equal("1", await Row(page, paused).Locator("[data-rejections]").InnerTextAsync());

        await page.GotoAsync("/console/rejections");
        var first = await page.Locator("#rejections tbody tr").First.InnerTextAsync();
        Assert.Contains("403", first);
        Assert.Contains($"these credentials may not sync project {paused.Project}", first);
    }
}
