using System.Globalization;
using System.Text.Json.Nodes;
using CohortSync.Host.Configuration;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>
/// What the read API's handlers cannot say by their signatures: <c>limit</c> is bound as text (so that a
/// malformed one gets the problem body) but is a whole number from 1 to <c>Api:MaxPageSize</c>.
/// </summary>
sealed class ReadApiDocumentation(IOptions<ApiOptions> options) : IOpenApiOperationTransformer
{
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
        }
        return Task.CompletedTask;
    }
}
