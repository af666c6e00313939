using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using CohortSync.Host.Tests.Infrastructure;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;

namespace CohortSync.Host.Tests;

/// <summary>
/// Who may read: Bearer keys, each for some projects or all; another project's data is invisible (lists
/// leave it out, single resources answer 404); without keys only clients on this machine.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ApiAccessTests(HostFixture fx)
{
    const string OneProjectKey = "key-for-one-project";
    const string EveryProjectKey = "key-for-every-project";

    async Task<RunningHost> StartHostWithKeysAsync(string project) =>
        await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Api:Keys:0:Key"] = OneProjectKey,
            ["Api:Keys:0:Projects:0"] = project,
            ["Api:Keys:1:Key"] = EveryProjectKey,
            ["Api:Keys:1:Projects:0"] = "*",
        });

    [Fact]
    public async Task Without_a_key_or_with_a_wrong_one_every_v1_endpoint_answers_401_with_a_Bearer_challenge()
    {
        var mine = TestCohort.New("auth");
        await fx.Client.PostOkAsync(mine.Members("s1", 1, 1, "a"));
        await using var host = await StartHostWithKeysAsync(mine.Project);

        string[] urls =
        [
            "/v1/cohorts", PathOf("v1", "cohorts", mine.Project, mine.Cohort), PathOf("v1", "cohorts", mine.Project, mine.Cohort, "members"),
            PathOf("v1", "cohorts", mine.Project, mine.Cohort, "members", "a"), PathOf("v1", "cohorts", mine.Project, mine.Cohort, "sessions"),
            PathOf("v1", "users", mine.Project, "a"), "/v1/rejections", "/v1/events", "/v1/consumers/w/cursor",
        ];
        foreach (var url in urls)
        {
            foreach (var key in new[] { null, "wrong-key", OneProjectKey + "x", "" })
            {
                var reply = await host.Client.GetApiAsync(url, key);
                Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"GET {url} with key '{key}': {reply}");
                Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString());
                Assert.Equal("missing or wrong API key: send Authorization: Bearer <key>", reply.Error);
            }
            // The right key gets through (this consumer has stored nothing yet: 404).
            var expected = url.Contains("/consumers/") ? HttpStatusCode.NotFound : HttpStatusCode.OK;
            Assert.Equal(expected, (await host.Client.GetApiAsync(url, OneProjectKey)).Status);
        }

        // Mixpanel's Basic credentials are not API keys, and a PUT is refused like a GET.
        using var basic = new HttpRequestMessage(HttpMethod.Get, "/v1/cohorts") { Headers = { Authorization = WebhookClient.Basic("mixpanel", OneProjectKey) } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.SendAsync(basic)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.PutApiAsync("/v1/consumers/w/cursor", """{"cursor":"x"}""")).Status);
        // The webhook is not behind API keys.
        await host.Client.PostOkAsync(mine.Members("s2", 1, 1, "a", "b"));
    }

    [Fact]
    public async Task A_key_for_one_project_sees_nothing_of_another()
    {
        var mine = TestCohort.New("mine");
        var theirs = TestCohort.New("theirs");
        foreach (var c in new[] { mine, theirs })
        {
            await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
            await fx.Client.PostOkAsync(c.Add("s2", 1, 2, "c"));
            Assert.Equal(HttpStatusCode.Conflict, (await fx.Client.PostAsync(c.Members("s2", 1, 1, "c"))).Status);
        }
        await using var host = await StartHostWithKeysAsync(mine.Project);
        var client = host.Client;

        // Lists hold only the key's projects.
        var cohorts = await client.GetAllPagesAsync("/v1/cohorts", "cohorts", limit: 1, key: OneProjectKey);
        Assert.Equal([(mine.Project, mine.Cohort)], cohorts.Select(c => (c.Text("projectId"), c.Text("cohortId"))));
        var (events, _) = await client.ReadToEndAsync("", key: OneProjectKey, limit: 500);
        Assert.Equal(["a", "b"], events.Select(e => e.DistinctId));
        Assert.All(events, e => Assert.Equal(mine.Project, e.ProjectId));
        Assert.Empty((await client.ReadToEndAsync($"projectId={theirs.Project}", key: OneProjectKey)).Events);
        await TestEventually(async () =>
        {
            var rejections = await client.GetAllPagesAsync("/v1/rejections", "rejections", limit: 10, key: OneProjectKey);
            return rejections.Count == 1 && rejections[0].Text("projectId") == mine.Project;
        });

        // Another project's single resources answer as if they did not exist.
        string[] theirPaths =
        [
            PathOf("v1", "cohorts", theirs.Project, theirs.Cohort), PathOf("v1", "cohorts", theirs.Project, theirs.Cohort, "members"),
            PathOf("v1", "cohorts", theirs.Project, theirs.Cohort, "members", "a"), PathOf("v1", "cohorts", theirs.Project, theirs.Cohort, "sessions"),
            PathOf("v1", "users", theirs.Project, "a"),
        ];
        var missing = TestCohort.New("missing") with { Project = theirs.Project };
        foreach (var path in theirPaths)
        {
            var hidden = await client.GetNotFoundAsync(path, OneProjectKey);
            var absent = await client.GetNotFoundAsync(path.Replace(theirs.Cohort, missing.Cohort).Replace("/a", "/nobody"), OneProjectKey);
            Assert.Equal(absent.Replace(missing.Cohort, theirs.Cohort).Replace("nobody", "a"), hidden);
            Assert.Equal(HttpStatusCode.OK, (await client.GetApiAsync(path, EveryProjectKey)).Status);
            Assert.Equal(HttpStatusCode.OK, (await client.GetApiAsync(path.Replace(theirs.Project, mine.Project).Replace(theirs.Cohort, mine.Cohort), OneProjectKey)).Status);
        }

        // A key for every project sees both.
        var all = await client.GetAllPagesAsync("/v1/cohorts", "cohorts", limit: 1000, key: EveryProjectKey);
        Assert.Contains(all, c => c.Text("projectId") == theirs.Project);
        Assert.Contains(all, c => c.Text("projectId") == mine.Project);
    }

    [Fact]
    public async Task Consumers_of_a_key_are_its_own()
    {
        await using var host = await StartHostWithKeysAsync(TestCohort.New("consumers").Project);
        var name = $"worker-{Guid.NewGuid():N}";
        var (_, start) = await host.Client.ReadAsync("", null, 1, EveryProjectKey);
        var put = await host.Client.PutApiAsync($"/v1/consumers/{name}/cursor", $$"""{"cursor":"{{start}}"}""", OneProjectKey);
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal(start, (await host.Client.GetOkAsync($"/v1/consumers/{name}/cursor", OneProjectKey)).Text("cursor"));
        await host.Client.GetNotFoundAsync($"/v1/consumers/{name}/cursor", EveryProjectKey);
    }

    [Theory]
    [InlineData("Api:Keys:0:Kee", "secret", "Api:Keys:0 needs a Key")]
    [InlineData("Api:Keys:0:Key", " ", "Api:Keys:0 needs a Key")]
    public async Task An_empty_key_stops_the_start(string setting, string value, string message)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            [setting] = value,
            ["Api:Keys:0:Projects:0"] = "p",
        }));
        Assert.Contains(message, error.Message);
    }

    /// <summary>A blank entry used to be dropped, and the list it left empty read as "every project".</summary>
    [Theory]
    [InlineData("", null)]
    [InlineData(" ", null)]
    [InlineData("p", "")]
    public async Task A_blank_project_entry_stops_the_start(string first, string? second)
    {
        var settings = new Dictionary<string, string?> { ["Api:Keys:0:Key"] = "k-blank", ["Api:Keys:0:Projects:0"] = first };
        if (second is not null)
            settings["Api:Keys:0:Projects:1"] = second;
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(settings));
        Assert.Contains($"Api:Keys:0:Projects:{(second is null ? 0 : 1)} is blank", error.Message);
    }

    [Fact]
    public async Task A_key_listed_twice_stops_the_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Api:Keys:0:Key"] = "same",
            ["Api:Keys:1:Key"] = "same",
        }));
        Assert.Contains("Api:Keys lists one key more than once", error.Message);
    }

    [Fact]
    public async Task Without_keys_v1_answers_clients_on_this_machine_and_refuses_others_with_403()
    {
        // Hosts A and B have no keys and serve 127.0.0.1: their clients are on this machine.
        Assert.Equal(HttpStatusCode.OK, (await fx.Client.GetApiAsync("/v1/cohorts?limit=1")).Status);

        // The same service listening on this machine's network address: a client reaching it there has
        // a non-loopback remote address.
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(address is not null, "this test needs a network interface other than loopback");

        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["urls"] = $"http://{address}:0" });
        Assert.NotEqual("127.0.0.1", host.BaseAddress.Host);
        foreach (var url in new[] { "/v1/cohorts", "/v1/events", "/v1/rejections" })
        {
            var reply = await host.Client.GetApiAsync(url);
            Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
            Assert.Equal("no API keys are configured (Api:Keys): the read API answers clients on this machine only", reply.Error);
        }
        // A key sent anyway changes nothing (there are none to match), and the rest of the service still answers.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client.GetApiAsync("/v1/cohorts", "any")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/healthz")).StatusCode);
    }

    static async Task TestEventually(Func<Task<bool>> condition)
    {
        // Rejections are written in the background.
        for (var i = 0; i < 100 && !await condition(); i++)
            await Task.Delay(50);
        Assert.True(await condition());
    }
}
