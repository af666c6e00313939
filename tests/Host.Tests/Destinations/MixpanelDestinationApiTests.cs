using System.Net;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Creating and changing mixpanel destinations: checked settings, and secrets that are only ever written.</summary>
[Collection(HostCollection.Name)]
public sealed class MixpanelDestinationApiTests(HostFixture fx)
{
    [Fact]
    public async Task Credentials_are_never_shown_back_and_defaults_are_the_messaging_event_names()
    {
        var project = TestCohort.New("mp-api").Project;
        // Disabled: nothing of this test is ever sent.
        var created = await fx.Client.PostApiAsync("/v1/destinations",
            $$$"""{"kind": "mixpanel", "projectId": "{{{project}}}", "enabled": false, "mixpanel": {"region": "EU", "token": "secret-token-x"}}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.DoesNotContain("secret-token-x", created.Raw);
        var d = created.Body.GetProperty("destination");
        var id = d.Text("id");
        var m = d.GetProperty("mixpanel");
        Assert.Equal(("mixpanel", "EU", "token", project, 2000), (d.Text("kind"), m.Text("region"), m.Text("authentication"), m.Text("importProjectId"), d.GetProperty("batchSize").GetInt32()));
        Assert.Equal(("$campaign_delivery", "$message_suppressed"), (m.GetProperty("eventNames").Text("entered"), m.GetProperty("eventNames").Text("exited")));
        Assert.EndsWith("/import", d.Text("url"));

        var changed = await fx.Client.PatchApiAsync($"/v1/destinations/{id}",
            """{"mixpanel": {"serviceAccount": {"username": "sa", "secret": "sa-secret-y"}, "eventNames": {"entered": "Targeted"}}}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.DoesNotContain("sa-secret-y", changed.Raw);
        var read = await fx.Client.GetApiAsync($"/v1/destinations/{id}");
        var mm = read.Body.GetProperty("mixpanel");
        Assert.Equal(("serviceAccount", "sa", "Targeted", "$message_suppressed", "EU"),
            (mm.Text("authentication"), mm.Text("serviceAccountUsername"), mm.GetProperty("eventNames").Text("entered"), mm.GetProperty("eventNames").Text("exited"), mm.Text("region")));
        Assert.DoesNotContain("sa-secret-y", read.Raw);
        Assert.DoesNotContain("secret-token-x", read.Raw);
        Assert.Equal(400, (await fx.Client.PostApiAsync($"/v1/destinations/{id}/rotate-secret", "")).Code);
        Assert.Equal(400, (await fx.Client.PatchApiAsync($"/v1/destinations/{id}", """{"kind": "webhook"}""")).Code);
    }

    [Theory]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"token": "t"}}""", "mixpanel.region")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "APAC", "token": "t"}}""", "mixpanel.region")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "US"}}""", "token or a serviceAccount")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "US", "token": "t", "serviceAccount": {"username": "u", "secret": "s"}}}""", "not both")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "US", "serviceAccount": {"username": "u"}}}""", "username and a secret")]
    [InlineData("""{"kind": "mixpanel", "url": "https://example.com", "mixpanel": {"region": "US", "token": "t"}}""", "url")]
    [InlineData("""{"kind": "mixpanel", "batchSize": 2001, "mixpanel": {"region": "US", "token": "t"}}""", "batchSize must be from 1 to 2000")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "US", "token": "t", "properties": {"$insert_id": "x"}}}""", "mixpanel.properties.$insert_id")]
    [InlineData("""{"kind": "mixpanel", "mixpanel": {"region": "US", "token": "t", "properties": {"a": {"b": {"c": {"d": 1}}}}}}""", "nest at most 3")]
    [InlineData("""{"kind": "mixpanel"}""", "mixpanel is required")]
    [InlineData("""{"kind": "carrier-pigeon", "url": "https://example.com"}""", "kind must be webhook or mixpanel")]
    [InlineData("""{"url": "https://example.com", "batchSize": 2000}""", "batchSize must be from 1 to 1000")]
    [InlineData("""{"url": "https://example.com", "mixpanel": {"region": "US"}}""", "only a destination of kind mixpanel")]
    public async Task Bad_settings_are_refused_naming_the_field(string body, string problem)
    {
        var project = TestCohort.New("mp-bad").Project;
        var reply = await fx.Client.PostApiAsync("/v1/destinations", $"{{\"projectId\": \"{project}\", " + body[1..]);
        Assert.Equal(400, reply.Code);
        Assert.Contains(problem, reply.Body.Text("error"));
        Assert.DoesNotContain("\"t\"", reply.Raw);
    }
}
