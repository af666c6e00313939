using System.Globalization;
using System.Text.Json.Nodes;
using CohortSync.Domain;
using CohortSync.Host.Cohorts;
using CohortSync.Host.Configuration;
using CohortSync.Host.Feed;
using CohortSync.Host.Observability;
using CohortSync.Host.Rejections;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>
/// What the read API's handlers and records cannot say by their types: <c>limit</c> is bound as text (so
/// that a malformed one gets the problem body) but is a whole number from 1 to <c>Api:MaxPageSize</c>;
/// and the text fields that only ever hold one of a few words (the CHECK constraints of <c>db/0001</c>).
/// </summary>
sealed class ReadApiDocumentation(IOptions<ApiOptions> options) : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    static readonly string[] TransitionKinds = ["entered", "exited"];
    static readonly string[] SessionKinds = ["full", "diff"];
    static readonly string[] SessionStates = ["open", "committed", "superseded"];

    static readonly Dictionary<(Type Record, string Property), string[]> Words = new()
    {
        [(typeof(FeedEvent), "kind")] = TransitionKinds,
        [(typeof(SessionView), "kind")] = SessionKinds,
        [(typeof(SessionView), "state")] = SessionStates,
        [(typeof(SessionSummary), "kind")] = SessionKinds,
        [(typeof(SessionSummary), "state")] = SessionStates,
        [(typeof(ActionProgressView), "action")] = WebhookAction.All.Select(a => a.WireName).ToArray(),
        [(typeof(RejectionView), "reason")] = ServiceMetrics.RejectionReasons,
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (parameter is { Name: "limit", In: ParameterLocation.Query })
            {
                parameter.Description = "Items per page.";
                parameter.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Format = "int32",
                    Minimum = "1",
                    Maximum = options.Value.MaxPageSize.ToString(CultureInfo.InvariantCulture),
                    Default = JsonValue.Create(options.Value.DefaultPageSize),
                };
            }
            else if (parameter is { Name: "kind", In: ParameterLocation.Query } && operation.OperationId == "GetEvents")
            {
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = Enumerate(TransitionKinds) };
            }
        }
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonPropertyInfo is { DeclaringType: var record, Name: var name } && Words.TryGetValue((record, name), out var words))
            schema.Enum = Enumerate(words);
        return Task.CompletedTask;
    }

    static List<JsonNode> Enumerate(IEnumerable<string> words) => words.Select(w => (JsonNode)JsonValue.Create(w)).ToList();
}
