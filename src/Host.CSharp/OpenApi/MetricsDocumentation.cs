using CohortSync.Host.Observability;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>
/// /metrics is prometheus-net's middleware, not a route handler, so OpenAPI does not see it: its path is
/// added by hand.
/// </summary>
static class MetricsDocumentation
{
    const string Tag = HealthEndpoints.Tag;

    public static Task AddMetricsPath(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Tags ??= new HashSet<OpenApiTag>();
        if (!document.Tags.Any(t => t.Name == Tag))
            document.Tags.Add(new OpenApiTag { Name = Tag });
        document.Paths ??= new OpenApiPaths();
        document.Paths[MetricsEndpoint.Path] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new()
                {
                    OperationId = "GetMetrics",
                    Tags = new HashSet<OpenApiTagReference> { new(Tag, document) },
                    Summary = "Prometheus metrics",
                    Description = "The service's metrics (cohortsync_*, process_*, dotnet_*) in Prometheus' text format, or OpenMetrics when asked for in Accept.",
                    Responses = new OpenApiResponses
                    {
                        ["200"] = new OpenApiResponse
                        {
                            Description = "The current value of every metric.",
                            Content = new Dictionary<string, OpenApiMediaType>
                            {
                                ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
