using System.Net;
using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Host.Tests.Security;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Destinations are managed through /v1, in the API key's projects, and their secret is shown once.</summary>
[Collection(HostCollection.Name)]
public sealed class DestinationApiTests(HostFixture fx)
{
    [Fact]
    public async Task A_destination_is_created_read_listed_changed_disabled_enabled_and_deleted()
    {
        var project = TestCohort.New("dest-api").Project;
        var created = await fx.Client.PostApiAsync("/v1/destinations",
            $$"""{"url": "https://example.invalid/hook", "projectId": "{{project}}", "cohortIds": ["c1", "c2"], "kinds": ["entered"], "batchSize": 50, "reentryCooldownSeconds": 3600}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var secret = created.Body.Text("secret");
        Assert.Matches("^whsec_[A-Za-z0-9+/]+=*$", secret);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length >= 24);
        var view = created.Body.GetProperty("destination");
        var id = view.Text("id");
        Assert.Equal($"/v1/destinations/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(("https://example.invalid/hook", project, 50, true, "active", 3600),
            (view.Text("url"), view.Text("projectId"), view.GetProperty("batchSize").GetInt32(), view.GetProperty("enabled").GetBoolean(),
                view.Text("state"), view.GetProperty("reentryCooldownSeconds").GetInt32()));
        Assert.Equal(["c1", "c2"], view.GetProperty("cohortIds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["entered"], view.GetProperty("kinds").EnumerateArray().Select(e => e.GetString()));

        // The secret is never shown again.
        var read = await fx.Client.GetApiAsync($"/v1/destinations/{id}");
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.DoesNotContain(secret, read.Raw);
        Assert.DoesNotContain("whsec_", read.Raw);
        var listed = await fx.Client.GetOkAsync($"/v1/destinations?projectId={project}");
        Assert.Equal([id], listed.GetProperty("destinations").EnumerateArray().Select(d => d.Text("id")));
        Assert.DoesNotContain("whsec_", listed.ToString());

        // A change keeps what it leaves out; null cohorts means every cohort.
        var changed = await fx.Client.PatchApiAsync($"/v1/destinations/{id}", """{"batchSize": 1000, "cohortIds": null}""");
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Equal((1000, true, "https://example.invalid/hook"),
            (changed.Body.GetProperty("batchSize").GetInt32(), changed.Body.GetProperty("cohortIds").ValueKind == System.Text.Json.JsonValueKind.Null,
                changed.Body.Text("url")));
        Assert.Equal(400, (await fx.Client.PatchApiAsync($"/v1/destinations/{id}", """{"projectId": "another"}""")).Code);

        Assert.False((await fx.Client.PostApiAsync($"/v1/destinations/{id}/disable", "")).Body.GetProperty("enabled").GetBoolean());
        Assert.True((await fx.Client.PostApiAsync($"/v1/destinations/{id}/enable", "")).Body.GetProperty("enabled").GetBoolean());

        using var deleted = await fx.Client.DeleteAsync($"/v1/destinations/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal($"no destination {id}", await fx.Client.GetNotFoundAsync($"/v1/destinations/{id}"));
        Assert.Equal(404, (await fx.Client.PostApiAsync($"/v1/destinations/{id}/rotate-secret", "")).Code);
        Assert.Equal(404, (await fx.Client.GetApiAsync("/v1/destinations/not-an-id")).Code);
    }

    [Theory]
    [InlineData("""{"projectId": "p"}""", "url is required")]
    [InlineData("""{"url": "ftp://example.invalid/x", "projectId": "p"}""", "url must be an absolute http or https URL")]
    [InlineData("""{"url": "https://user:pw@example.invalid/x", "projectId": "p"}""", "url must be an absolute http or https URL")]
    [InlineData("""{"url": "https://example.invalid/x"}""", "projectId is required")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "batchSize": 0}""", "batchSize must be from 1 to 1000")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "batchSize": 1001}""", "batchSize must be from 1 to 1000")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "kinds": ["joined"]}""", "kinds must list entered, exited or both")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "kinds": []}""", "kinds must list entered, exited or both")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "cohortIds": []}""", "cohortIds must be null (every cohort)")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "reentryCooldownSeconds": 0}""", "reentryCooldownSeconds must be null")]
    [InlineData("""{"url": "https://example.invalid/x", "projectId": "p", "enabled": "yes"}""", "enabled must be true or false")]
    [InlineData("""[1]""", "the body must be a JSON object")]
    [InlineData("""not json""", "the body must be a JSON object")]
    public async Task A_bad_destination_is_refused_with_400_saying_why(string body, string problem)
    {
        var reply = await fx.Client.PostApiAsync("/v1/destinations", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(problem, reply.Error);
    }

    [Fact]
    public async Task A_key_reaches_only_the_destinations_of_its_projects()
    {
        var mine = TestCohort.New("dest-mine").Project;
        var theirs = TestCohort.New("dest-theirs").Project;
        await using var host = await SecuredHosts.StartAsync(fx, ("Api:Keys:0:Projects:0", mine), ("Api:Keys:1:Key", "other-key"), ("Api:Keys:1:Projects:0", theirs));

        var forbidden = await host.Client.PostApiAsync("/v1/destinations", $$"""{"url": "https://example.invalid/", "projectId": "{{theirs}}"}""", SecuredHosts.ApiKey);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);
        Assert.Equal($"this API key does not reach project {theirs}", forbidden.Error);

        var (id, _) = await host.Client.CreateDestinationAsync("https://example.invalid/", theirs, key: "other-key");
        Assert.Equal(404, (await host.Client.GetApiAsync($"/v1/destinations/{id}", SecuredHosts.ApiKey)).Code);
        Assert.Equal(404, (await host.Client.PatchApiAsync($"/v1/destinations/{id}", """{"enabled": false}""", SecuredHosts.ApiKey)).Code);
        Assert.Equal(404, (await host.Client.PostApiAsync($"/v1/destinations/{id}/rotate-secret", "", SecuredHosts.ApiKey)).Code);
        Assert.Equal(404, (await host.Client.GetApiAsync($"/v1/destinations/{id}/deliveries", SecuredHosts.ApiKey)).Code);
        Assert.Empty((await host.Client.GetOkAsync("/v1/destinations", SecuredHosts.ApiKey)).GetProperty("destinations").EnumerateArray());
        Assert.Equal(401, (await host.Client.GetApiAsync("/v1/destinations")).Code);
        Assert.True((await host.Client.GetOkAsync($"/v1/destinations/{id}", "other-key")).GetProperty("enabled").GetBoolean());
    }
}
