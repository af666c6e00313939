using System.Text.Json.Nodes;
using CohortSync.Domain;
using CohortSync.Host.Cohorts;
using CohortSync.Host.Destinations;
using CohortSync.Host.Feed;
using CohortSync.Host.Observability;
using CohortSync.Host.Rejections;
using CohortSync.Host.UserProfiles;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.OpenApi;

/// <summary>
/// What several records and parameters share, as one named component that each of them references: a
/// generated client then has one type for a session's state, not one per record that shows it. The records
/// hold these fields as text (the CHECK constraints of <c>db/0001</c> keep them to their words) and a
/// member's properties as a <see cref="System.Text.Json.JsonElement"/>, which their types cannot say.
/// </summary>
sealed class NamedSchemas : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string TransitionKindSchema = "TransitionKind";
    const string SessionKindSchema = "SessionKind";
    const string SessionStateSchema = "SessionState";
    const string RejectionReasonSchema = "RejectionReason";
    const string MemberPropertiesSchema = "MemberProperties";
    const string DestinationKindSchema = "DestinationKind";
    const string MixpanelRegionSchema = "MixpanelRegion";
    const string MixpanelAuthenticationSchema = "MixpanelAuthentication";
    const string EventPropertiesSchema = "EventProperties";
    const string FailedRecordsSchema = "FailedRecords";
    const string ActionTimeSchema = "ActionTime";

    /// <summary>The component the webhook body's C# enum already gives the actions.</summary>
    const string ActionSchema = nameof(CohortSyncAction);

    static readonly (Type Record, string Property, string Schema)[] Uses =
    [
        (typeof(FeedEvent), "kind", TransitionKindSchema),
        (typeof(SessionView), "kind", SessionKindSchema),
        (typeof(SessionView), "state", SessionStateSchema),
        (typeof(SessionSummary), "kind", SessionKindSchema),
        (typeof(SessionSummary), "state", SessionStateSchema),
        (typeof(ActionProgressView), "action", ActionSchema),
        (typeof(RejectionView), "reason", RejectionReasonSchema),
        (typeof(MemberView), "properties", MemberPropertiesSchema),
        (typeof(ProfileView), "properties", MemberPropertiesSchema),
        (typeof(DestinationView), "kind", DestinationKindSchema),
        (typeof(DestinationBody), "kind", DestinationKindSchema),
        (typeof(MixpanelView), "region", MixpanelRegionSchema),
        (typeof(MixpanelBody), "region", MixpanelRegionSchema),
        (typeof(MixpanelView), "authentication", MixpanelAuthenticationSchema),
        (typeof(MixpanelView), "properties", EventPropertiesSchema),
        (typeof(MixpanelBody), "properties", EventPropertiesSchema),
        (typeof(ReportedAction), "properties", EventPropertiesSchema),
        (typeof(ReportedAction), "time", ActionTimeSchema),
        (typeof(AttemptView), "failedRecords", FailedRecordsSchema),
    ];

    /// <summary>Lists whose items are one of the named words.</summary>
    static readonly (Type Record, string Property, string Schema)[] ListUses =
    [
        (typeof(DestinationView), "kinds", TransitionKindSchema),
        (typeof(DestinationBody), "kinds", TransitionKindSchema),
    ];

    static Dictionary<string, OpenApiSchema> Components() => new()
    {
        [TransitionKindSchema] = Words(
            "entered: the user joined the cohort at a commit; exited: the user left it.",
            TransitionKind.Entered, TransitionKind.Exited),
        [SessionKindSchema] = Words(
            "full: a members sync, which replaces the cohort's membership; diff: an add_members and remove_members sync.",
            SessionKind.Full, SessionKind.Diff),
        [SessionStateSchema] = Words(
            "open: pages are still arriving; sealed: all pages are in and were acknowledged, to be applied after the sessions sealed before it; committed: applied, all pages together; superseded: given up before its last page (a newer session began, or it waited too long), so it never will be.",
            SessionStatus.All),
        [RejectionReasonSchema] = Words(
            "Why the webhook refused a request.",
            ServiceMetrics.RejectionReasons),
        [DestinationKindSchema] = Words(
            "webhook: signed batches of changes POSTed to a URL; mixpanel: one event per change sent to Mixpanel's /import.",
            DestinationKind.All),
        [MixpanelRegionSchema] = Words(
            "The Mixpanel data residency region whose ingestion host a mixpanel destination sends to: US, EU or IN (India).",
            MixpanelRegion.All),
        [MixpanelAuthenticationSchema] = Words(
            "token: the project token as the Basic user; serviceAccount: a service account's username and secret, with project_id.",
            MixpanelAuthentication.All),
        [EventPropertiesSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalProperties = new OpenApiSchema(),
            Description = "An event's own properties, as Mixpanel takes them: fewer than 200, objects nested at most 3 deep; not the ones CohortSync sets (time, distinct_id, $insert_id, token, $source, cohort_id, cohort_name, cohort_change).",
        },
        [ActionTimeSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.String | JsonSchemaType.Integer,
            Description = "When the action happened: ISO 8601 with an offset, or Unix milliseconds; after 1971-01-01 and at most an hour from now.",
        },
        [FailedRecordsSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Array | JsonSchemaType.Null,
            Description = "The events Mixpanel refused in a 400 (the others were ingested), as it named them; null for any other answer.",
            Items = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["index"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The event's place in the batch, from 0." },
                    ["insert_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The event's $insert_id." },
                    ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The field refused." },
                    ["message"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Why." },
                },
            },
        },
        [MemberPropertiesSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalProperties = new OpenApiSchema(),
            Description = "The member's other exported properties (the cohort's \"Properties to Export\"), kept verbatim as Mixpanel sent them.",
        },
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in Components())
            document.Components.Schemas[name] = schema;
        foreach (var (record, property, schema) in Uses)
        {
            // A renamed record or property would otherwise leave its field described as any text.
            if (!document.Components.Schemas.TryGetValue(record.Name, out var owner)
                || owner is not OpenApiSchema { Properties: { } properties } || !properties.ContainsKey(property))
                throw new InvalidOperationException($"the OpenAPI document has no property {property} of {record.Name}");
            properties[property] = new OpenApiSchemaReference(schema, document);
        }
        foreach (var (record, property, schema) in ListUses)
        {
            if (!document.Components.Schemas.TryGetValue(record.Name, out var owner)
                || owner is not OpenApiSchema { Properties: { } properties } || !properties.TryGetValue(property, out var list)
                || list is not OpenApiSchema { Items: not null } array)
                throw new InvalidOperationException($"the OpenAPI document has no list {property} of {record.Name}");
            array.Items = new OpenApiSchemaReference(schema, document);
        }
        return Task.CompletedTask;
    }

    /// <summary>The events filter takes the same words as the events it filters.</summary>
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (operation.OperationId == FeedEndpoints.GetEventsName)
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
                if (parameter is { Name: "kind", In: ParameterLocation.Query })
                    parameter.Schema = new OpenApiSchemaReference(TransitionKindSchema, context.Document);
        return Task.CompletedTask;
    }

    static OpenApiSchema Words(string description, params IEnumerable<object> words) => new()
    {
        Type = JsonSchemaType.String,
        Enum = words.Select(w => (JsonNode)JsonValue.Create(w.ToString()!)).ToList(),
        Description = description,
    };
}
