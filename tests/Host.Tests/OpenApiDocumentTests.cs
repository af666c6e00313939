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
        Assert.Equal(["entered", "exited"], Resolve(doc, kindParameter.GetProperty("schema")).GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var cohortView = doc.GetProperty("components").GetProperty("schemas").GetProperty("CohortView");
        Assert.Equal("integer", Property(doc, cohortView, "memberCount").GetProperty("type").GetString());
        Assert.False(Property(doc, cohortView, "memberCount").TryGetProperty("pattern", out _));
        var sessionView = doc.GetProperty("components").GetProperty("schemas").GetProperty("SessionView");
        Assert.Equal(["integer", "null"], Property(doc, sessionView, "entered").GetProperty("type").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.Equal(["committed", "open", "sealed", "superseded"], Property(doc, sessionView, "state").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).Order());
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

    // ==== As a generated client sees it ==========================================================

    [Fact]
    public async Task Document_names_no_absolute_server()
    {
        var doc = await DocumentAsync();
        // A client generated from it would otherwise call whichever host the document was fetched from.
        if (doc.TryGetProperty("servers", out var servers))
            foreach (var server in servers.EnumerateArray())
                Assert.False(Uri.TryCreate(server.GetProperty("url").GetString(), UriKind.Absolute, out _), server.ToString());
    }

    [Fact]
    public async Task A_members_properties_are_one_named_object_of_any_properties()
    {
        var doc = await DocumentAsync();
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var uses = new[] { "MemberView", "ProfileView" }
            .Select(record => schemas.GetProperty(record).GetProperty("properties").GetProperty("properties"))
            .ToArray();
        Assert.Single(uses.Select(u => u.GetProperty("$ref").GetString()).Distinct());
        var properties = Resolve(doc, uses[0]);
        Assert.Equal("object", properties.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Object, properties.GetProperty("additionalProperties").ValueKind);
        Assert.False(schemas.TryGetProperty("JsonElement", out _));
    }

    [Fact]
    public async Task The_problem_bodys_error_is_the_primary_error_message()
    {
        var doc = await DocumentAsync();
        var events = doc.GetProperty("paths").GetProperty("/v1/events").GetProperty("get");
        var problem = events.GetProperty("responses").GetProperty("400").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        var marked = Resolve(doc, problem).GetProperty("properties").EnumerateObject()
            .Where(p => p.Value.TryGetProperty("x-ms-primary-error-message", out var flag) && flag.GetBoolean())
            .Select(p => p.Name);
        Assert.Equal(["error"], marked);
        Assert.Equal("string", Property(doc, problem, "error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Every_enum_is_one_named_component_that_its_uses_reference()
    {
        var doc = await DocumentAsync();
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var enums = new List<(string Path, string[] Words)>();
        Walk(doc, "#", (path, node) =>
        {
            if (node.TryGetProperty("enum", out var words))
                enums.Add((path, words.EnumerateArray().Select(w => w.GetString()!).Order().ToArray()));
            if (node.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String)
                Assert.True(schemas.TryGetProperty(reference.GetString()!.Split('/')[^1], out _), $"{path}: {reference}");
        });
        Assert.All(enums, e => Assert.Matches("^#/components/schemas/[^/]+$", e.Path));
        Assert.Equal(enums.Count, enums.Select(e => string.Join(",", e.Words)).Distinct().Count());

        string RefOf(string record, string property) =>
            schemas.GetProperty(record).GetProperty("properties").GetProperty(property).GetProperty("$ref").GetString()!;
        var kindParameter = doc.GetProperty("paths").GetProperty("/v1/events").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "kind");
        Assert.Equal(RefOf("FeedEvent", "kind"), kindParameter.GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal(RefOf("SessionView", "kind"), RefOf("SessionSummary", "kind"));
        Assert.Equal(RefOf("SessionView", "state"), RefOf("SessionSummary", "state"));
        Assert.Equal(RefOf("CohortSyncPage", "action"), RefOf("ActionProgressView", "action"));
        Assert.Equal("CohortSyncReplyStatus", RefOf("CohortSyncReply", "status").Split('/')[^1]);
        Assert.Equal("string", Resolve(doc, kindParameter.GetProperty("schema")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_destinations_kind_region_authentication_and_kinds_are_named_enums()
    {
        var doc = await DocumentAsync();
        var schemas = doc.GetProperty("components").GetProperty("schemas");
        string[] Words(string record, string property) =>
            [.. Property(doc, schemas.GetProperty(record), property).GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).Order()];
        Assert.Equal(["mixpanel", "webhook"], Words("DestinationView", "kind"));
        Assert.Equal(["mixpanel", "webhook"], Words("DestinationBody", "kind"));
        Assert.Equal(["EU", "IN", "US"], Words("MixpanelView", "region"));
        Assert.Equal(["EU", "IN", "US"], Words("MixpanelBody", "region"));
        Assert.Equal(["serviceAccount", "token"], Words("MixpanelView", "authentication"));
        var kinds = Property(doc, schemas.GetProperty("DestinationView"), "kinds").GetProperty("items");
        Assert.Equal("#/components/schemas/TransitionKind", kinds.GetProperty("$ref").GetString());
        Assert.DoesNotContain(Names(doc, schemas.GetProperty("MixpanelView")), n => n.Contains("secret", StringComparison.OrdinalIgnoreCase) || n == "token");
    }

    [Fact]
    public async Task Every_read_operation_and_its_parameters_are_described()
    {
        var doc = await DocumentAsync();
        var operations = doc.GetProperty("paths").EnumerateObject()
            .Where(path => path.Name.StartsWith("/v1/", StringComparison.Ordinal))
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Name: $"{op.Name} {path.Name}", Operation: op.Value)))
            .ToArray();
        // Reads with a user's history, the feed and its consumers (11), destinations with their deliveries (10),
        // and action reports (1).
        Assert.Equal(22, operations.Length);
        foreach (var (name, operation) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), name);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("description").GetString()), name);
            foreach (var parameter in operation.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateArray() : default)
                Assert.False(
                    string.IsNullOrWhiteSpace(parameter.TryGetProperty("description", out var text) ? text.GetString() : null),
                    $"{name}: {parameter.GetProperty("name")}");
        }
    }

    /// <summary>Visits every object of the document with its JSON pointer.</summary>
    static void Walk(JsonElement node, string path, Action<string, JsonElement> visit)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            visit(path, node);
            foreach (var child in node.EnumerateObject())
                Walk(child.Value, $"{path}/{child.Name.Replace("~", "~0").Replace("/", "~1")}", visit);
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in node.EnumerateArray())
                Walk(item, $"{path}/{i++}", visit);
        }
    }
}
