using System.Net;
using CohortSync.Host.Tests.Infrastructure;
using static CohortSync.Host.Tests.Infrastructure.MetricsScrape;

namespace CohortSync.Host.Tests.Security;

/// <summary>
/// Guessing is expensive: after Security:FailedAuthLimit failed authentications in a window, every request
/// of that client address gets 429 with Retry-After until the window ends. Only failures count.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class FailedAuthLimitTests(HostFixture fx)
{
    const string Refusals = "cohortsync_access_refusals_total";

    [Fact]
    public async Task A_thousand_wrong_guesses_end_in_429s_while_real_pages_from_another_address_go_through()
    {
        // Defaults of a deployment: 20 failures a minute.
        await using var host = await SecuredHosts.StartAsync(fx, ("Security:FailedAuthLimit", "20"));
        using var attacker = LoopbackClient.From("127.0.0.2", host.BaseAddress);
        using var mixpanel = LoopbackClient.From("127.0.0.3", host.BaseAddress);
        var c = TestCohort.New("guessing");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 1000; i++)
        {
            var reply = await attacker.PostAsync(c.Members("s-attack", 1, 1, "x"), WebhookClient.Basic(SecuredHosts.Username, $"guess-{i}"));
            statuses.Add(reply.Status);
            if (reply.Status == HttpStatusCode.TooManyRequests)
                Assert.True(reply.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, $"Retry-After: {reply.Headers.RetryAfter}");
            if (i % 100 == 0)
                await mixpanel.PostOkAsync(c.Members($"s{i}", 1, 1, $"m{i}"), SecuredHosts.Right);
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 20), statuses.Take(20));
        Assert.All(statuses.Skip(20), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));

        // The right password does not help the guessing address, nor does an API key; the other address is served.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.PostAsync(c.Members("s-right", 1, 1, "y"), SecuredHosts.Right)).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.GetApiAsync("/v1/cohorts", SecuredHosts.ApiKey)).Status);
        await mixpanel.PostOkAsync(c.Members("s-last", 1, 1, "z"), SecuredHosts.Right);
        var members = await mixpanel.GetAllPagesAsync(ApiClient.PathOf("v1", "cohorts", c.Project, c.Cohort, "members"), "members", 100, SecuredHosts.ApiKey);
        Assert.Equal(["z"], members.Select(m => m.Text("distinctId")));
        // Probes are never locked out.
        Assert.Equal(HttpStatusCode.OK, (await attacker.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await attacker.GetAsync("/readyz")).StatusCode);

        var metrics = await TakeAsync(mixpanel);
        Assert.Equal(20, metrics[Series(Refusals, ("reason", "webhook_credentials"))]);
        Assert.Equal(982, metrics[Series(Refusals, ("reason", "too_many_failures"))]);
    }

    [Fact]
    public async Task Valid_credentials_are_never_limited_however_many_requests()
    {
        await using var host = await SecuredHosts.StartAsync(fx, ("Security:FailedAuthLimit", "2"));
        var c = TestCohort.New("volume");
        for (var i = 0; i < 60; i++)
            await host.Client.PostOkAsync(c.Members($"s{i}", 1, 1, $"m{i}"), SecuredHosts.Right);
        for (var i = 0; i < 60; i++)
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts?limit=1", SecuredHosts.ApiKey)).Status);
    }

    [Fact]
    public async Task Wrong_api_keys_count_and_the_lock_ends_with_the_window()
    {
        await using var host = await SecuredHosts.StartAsync(fx, ("Security:FailedAuthLimit", "3"), ("Security:FailedAuthWindowSeconds", "2"));
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetApiAsync("/v1/cohorts", $"wrong-{i}")).Status);
        var locked = await host.Client.GetApiAsync("/v1/cohorts", SecuredHosts.ApiKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.Status);
        Assert.Equal("too many failed authentications from this address: retry after the time in Retry-After", locked.Error);
        var wait = locked.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("no Retry-After");
        Assert.InRange(wait.TotalSeconds, 1, 2);

        await Task.Delay(wait + TimeSpan.FromMilliseconds(300));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts", SecuredHosts.ApiKey)).Status);
    }
}
