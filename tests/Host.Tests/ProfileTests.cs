using System.Text.Json.Nodes;
using CohortSync.Domain;
using CohortSync.Host.Tests.Infrastructure;
using static CohortSync.Host.Tests.Infrastructure.Users;

namespace CohortSync.Host.Tests;

/// <summary>The members endpoint shows each member's latest profile: the named fields and every extra exported property.</summary>
[Collection(HostCollection.Name)]
public sealed class ProfileTests(HostFixture fx)
{
    static void AssertJson(string expected, System.Text.Json.JsonElement actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual.GetRawText())),
            $"expected {expected}, got {actual.GetRawText()}");

    [Fact]
    public async Task Members_show_the_profile_and_extra_properties_of_the_latest_session()
    {
        var c = TestCohort.New("profile");
        var client = fx.Client;

        await client.PostOkAsync(c.Page(WebhookAction.Members, "s1", 1, 1,
        [
            M("A", "ann@example.com", "Ann", "Lee", "111-222-3333", """{"plan":"free","address":{"city":"Oslo","zip":"0150"}}"""),
            M("B", "bob@example.com"),
        ]));
        var first = await client.GetAllMembersAsync(c);
        Assert.Equal(["A", "B"], first.Select(m => m.DistinctId));
        Assert.Equal(("ann@example.com", "Ann", "Lee", "111-222-3333"), (first[0].Email, first[0].FirstName, first[0].LastName, first[0].PhoneNumber));
        AssertJson("""{"plan":"free","address":{"city":"Oslo","zip":"0150"}}""", first[0].Properties);
        Assert.Equal(("bob@example.com", (string?)null, (string?)null, (string?)null), (first[1].Email, first[1].FirstName, first[1].LastName, first[1].PhoneNumber));
        AssertJson("{}", first[1].Properties);

        // Session 2 (a full sync in two pages): A's profile changes, nested objects, arrays, numbers and
        // non-ASCII text kept as sent; B leaves; C has no extra properties.
        const string latest =
            """{"plan":"pro","address":{"city":"Bergen","geo":{"lat":60.39,"lon":5.32}},"tags":["x","y"],"score":42,"vip":true,"nickname":"Åse ✓","customProperties":{"ltv":{"amount":12.5,"currency":"NOK"}}}""";
        await client.PostOkAsync(c.Page(WebhookAction.Members, "s2", 2, 2, [M("C", "cy@example.com", "Cy")]));
        await client.PostOkAsync(c.Page(WebhookAction.Members, "s2", 1, 2,
            [M("A", "ann.lee@example.com", "Anne", "Lee-Berg", "999", latest)]));

        var second = await client.GetAllMembersAsync(c);
        Assert.Equal(["A", "C"], second.Select(m => m.DistinctId));
        Assert.Equal(("ann.lee@example.com", "Anne", "Lee-Berg", "999"), (second[0].Email, second[0].FirstName, second[0].LastName, second[0].PhoneNumber));
        AssertJson(latest, second[0].Properties);
        Assert.Equal(("cy@example.com", "Cy"), (second[1].Email, second[1].FirstName));
        AssertJson("{}", second[1].Properties);

        // A page of a session that has not committed changes no profile.
        await client.PostOkAsync(c.Page(WebhookAction.AddMembers, "s3", 1, 1, [M("A", "staged@example.com", properties: """{"plan":"staged"}""")]));
        var third = await client.GetAllMembersAsync(c);
        Assert.Equal("ann.lee@example.com", third[0].Email);
        AssertJson(latest, third[0].Properties);

        // It commits: the newest profile shows, field by field; what this export leaves out (names,
        // phone, properties other than plan) keeps its stored value.
        await client.PostOkAsync(c.Page(WebhookAction.RemoveMembers, "s3", 1, 1, [M("C", "cy.new@example.com", "Cyrus")]));
        var fourth = await client.GetAllMembersAsync(c);
        var a = Assert.Single(fourth);
        Assert.Equal(("A", "staged@example.com", "Anne", "999"), (a.DistinctId, a.Email, a.FirstName, a.PhoneNumber));
        var merged = JsonNode.Parse(latest)!.AsObject();
        merged["plan"] = "staged";
        AssertJson(merged.ToJsonString(), a.Properties);
    }

    [Fact]
    public async Task A_profile_is_the_project_wide_latest_across_cohorts()
    {
        var c1 = TestCohort.New("profile-shared");
        var c2 = c1 with { Cohort = c1.Cohort + "-second" };
        await fx.Client.PostOkAsync(c1.Page(WebhookAction.Members, "s1", 1, 1, [M("U", "old@example.com", properties: """{"v":1}""")]));
        await fx.Client.PostOkAsync(c2.Page(WebhookAction.Members, "s1", 1, 1, [M("U", "new@example.com", properties: """{"v":2}""")]));

        foreach (var c in new[] { c1, c2 })
        {
            var u = Assert.Single(await fx.Client.GetAllMembersAsync(c));
            Assert.Equal("new@example.com", u.Email);
            AssertJson("""{"v":2}""", u.Properties);
        }

        // Another project's user of the same id is another user.
        var other = TestCohort.New("profile-other");
        await fx.Client.PostOkAsync(other.Page(WebhookAction.Members, "s1", 1, 1, [M("U", "elsewhere@example.com")]));
        Assert.Equal("new@example.com", Assert.Single(await fx.Client.GetAllMembersAsync(c1)).Email);
    }

    [Fact]
    public async Task A_NUL_in_profile_text_is_stored_replaced_not_refused()
    {
        // PostgreSQL text cannot hold NUL: one such profile must not fail (and so stall) the cohort's sync.
        var c = TestCohort.New("nul");
        var reply = await fx.Client.PostRawAsync(
            $$$"""{"action":"members","parameters":{"mixpanel_project_id":"{{{c.Project}}}","mixpanel_cohort_id":"{{{c.Cohort}}}","mixpanel_cohort_name":"n\u0000","mixpanel_session_id":"s1","page_info":{"total_pages":1,"page_count":1},"members":[{"mixpanel_distinct_id":"u","email":"a\u0000b","k\u0000":["x\u0000"]}]}}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, reply.Status);
        var u = Assert.Single(await fx.Client.GetAllMembersAsync(c));
        Assert.Equal("a\uFFFDb", u.Email);
        AssertJson("""{"k\uFFFD":["x\uFFFD"]}""", u.Properties);
    }
}
