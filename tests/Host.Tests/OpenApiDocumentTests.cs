using System.Net;
using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>The OpenAPI document describes the webhook as Mixpanel uses it, and the read and operations endpoints.</summary>
[Collection(HostCollection.Name)]
public sealed class OpenApiDocumentTests(HostFixture fx)
{
    const string DocumentPath = "/openapi/v1.json";

    static readonly string[] WebhookStatuses = ["200", "400", "401", "403", "409", "413", "500", "503"];

    async Task<JsonElement> DocumentAsync()
    {
        using var response = await fx.Client.GetAsync(DocumentPath);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {raw}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        if (Environment.GetEnvironmentVariable("COHORTSYNC_OPENAPI_OUT") is { Length: > 0 } path)
            await File.WriteAllTextAsync(path, raw);
        using var doc = JsonDocument.Parse(raw);
        return doc.RootElement.Clone();
    }

    /// <summary>Follows a <c>$ref</c> into components, or returns the schema itself.</summary>
    static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    static JsonElement Property(JsonElement document, JsonElement schema, string name) =>
        Resolve(document, Resolve(document, schema).GetProperty("properties").GetProperty(name));

    static string[] Names(JsonElement document, JsonElement schema) =>
        Resolve(document, schema).GetProperty("properties").EnumerateObject().Select(p => p.Name).ToArray();

    static void AssertHas(IEnumerable<string> actual, params string[] expected) =>
        Assert.Superset(expected.ToHashSet(), actual.ToHashSet());

    static string[] Required(JsonElement document, JsonElement schema) =>
        Resolve(document, schema).GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task Webhook_is_described_with_mixpanels_body_every_reply_and_basic_authentication()
    {
        var doc = await DocumentAsync();
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        var post = doc.GetProperty("paths").GetProperty(WebhookClient.Path).GetProperty("post");
        Assert.False(string.IsNullOrWhiteSpace(post.GetProperty("summary").GetString()));

        var body = post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.Equal(["action", "parameters"], Required(doc, body).Order());
        Assert.Equal(
            ["add_members", "members", "remove_members"],
            Property(doc, body, "action").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order());
        var parameters = Property(doc, body, "parameters");
        AssertHas(Names(doc, parameters),
            "mixpanel_project_id", "mixpanel_cohort_id", "mixpanel_cohort_name", "mixpanel_cohort_description",
            "mixpanel_session_id", "page_info", "members");
        AssertHas(Required(doc, parameters), "mixpanel_project_id", "mixpanel_cohort_id", "mixpanel_session_id", "page_info");
        var pageInfo = Property(doc, parameters, "page_info");
        Assert.Equal(["page_count", "total_pages"], Required(doc, pageInfo).Order());
        var member = Resolve(doc, Property(doc, parameters, "members").GetProperty("items"));
        Assert.Equal(
            ["email", "first_name", "last_name", "mixpanel_distinct_id", "phone_number"],
            Names(doc, member).Order());
        // Any other exported property is allowed.
        Assert.Equal(JsonValueKind.Object, member.GetProperty("additionalProperties").ValueKind);
        // Ids: strings or numbers.
        var distinctIdType = Property(doc, member, "mixpanel_distinct_id").GetProperty("type");
        Assert.Contains("number", distinctIdType.EnumerateArray().Select(t => t.GetString()));

        var responses = post.GetProperty("responses");
        Assert.Equal(WebhookStatuses.Order(), responses.EnumerateObject().Select(r => r.Name).Order());
        foreach (var status in WebhookStatuses)
        {
            var response = responses.GetProperty(status);
            Assert.False(string.IsNullOrWhiteSpace(response.GetProperty("description").GetString()), status);
            var reply = response.GetProperty("content").GetProperty("application/json").GetProperty("schema");
            AssertHas(Names(doc, reply), "action", "status", "error");
            Assert.Equal(["action", "status"], Required(doc, reply).Order());
            Assert.Equal(["failure", "success"], Property(doc, reply, "status").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order());
            AssertHas(Names(doc, Property(doc, reply, "error")), "message", "code");
        }

        var security = Assert.Single(post.GetProperty("security").EnumerateArray());
        var scheme = Assert.Single(security.EnumerateObject()).Name;
        var basic = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty(scheme);
        Assert.Equal(("http", "basic"), (basic.GetProperty("type").GetString(), basic.GetProperty("scheme").GetString()));
    }

    [Fact]
    public async Task Read_and_operations_endpoints_are_described()
    {
        var doc = await DocumentAsync();
        var paths = doc.GetProperty("paths");

        var members = paths.GetProperty("/v1/cohorts/{projectId}/{cohortId}/members").GetProperty("get");
        Assert.Equal(
            ["after", "cohortId", "limit", "projectId"],
            members.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
        // limit is bound as text (a malformed one gets the problem body) but documented as the number it is.
        var limit = members.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "limit").GetProperty("schema");
        Assert.Equal(("integer", 1, 1000, 100),
            (limit.GetProperty("type").GetString(), limit.GetProperty("minimum").GetInt32(), limit.GetProperty("maximum").GetInt32(), limit.GetProperty("default").GetInt32()));
        var ok = members.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        AssertHas(Names(doc, ok), "members", "next");
        var bearer = Assert.Single(Assert.Single(members.GetProperty("security").EnumerateArray()).EnumerateObject()).Name;
        Assert.Equal("bearer",
            doc.GetProperty("components").GetProperty("securitySchemes").GetProperty(bearer).GetProperty("scheme").GetString());

        // Integers are integers (not "integer or string"), and words that come from a fixed set list it.
        var events = paths.GetProperty("/v1/events").GetProperty("get");
        var feedPage = events.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var feedEvent = Resolve(doc, Property(doc, feedPage, "events").GetProperty("items"));
        Assert.Equal(["entered", "exited"], Property(doc, feedEvent, "kind").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var kindParameter = events.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "kind");
        Assert.Equal(["entered", "exited"], kindParameter.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var cohortView = doc.GetProperty("components").GetProperty("schemas").GetProperty("CohortView");
        Assert.Equal("integer", Property(doc, cohortView, "memberCount").GetProperty("type").GetString());
        Assert.False(Property(doc, cohortView, "memberCount").TryGetProperty("pattern", out _));
        var sessionView = doc.GetProperty("components").GetProperty("schemas").GetProperty("SessionView");
        Assert.Equal(["integer", "null"], Property(doc, sessionView, "entered").GetProperty("type").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.Equal(["committed", "open", "superseded"], Property(doc, sessionView, "state").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order());
        // A consumer's cursor may not be null, and every read operation describes its 500 and 503.
        var cursorBody = doc.GetProperty("components").GetProperty("schemas").GetProperty("ConsumerCursorBody");
        Assert.Equal("string", Property(doc, cursorBody, "cursor").GetProperty("type").GetString());
        foreach (var status in new[] { "500", "503" })
            AssertHas(Names(doc, events.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty("application/json").GetProperty("schema")), "error");

        Assert.True(paths.GetProperty("/healthz").TryGetProperty("get", out _));
        Assert.Equal(["200", "503"], paths.GetProperty("/readyz").GetProperty("get").GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
        Assert.True(paths.GetProperty("/metrics").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/plain", out _));
        // Operations endpoints take no credentials.
        Assert.False(paths.GetProperty("/healthz").GetProperty("get").TryGetProperty("security", out _));
    }
}
