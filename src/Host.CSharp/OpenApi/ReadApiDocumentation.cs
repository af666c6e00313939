using System.Globalization;
using System.Text.Json.Nodes;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>
/// What the read API's handlers and records cannot say by their types: <c>limit</c> is bound as text (so
/// that a malformed one gets the problem body) but is a whole number from 1 to <c>Api:MaxPageSize</c>; and
/// the problem body's <c>error</c> is the message a generated client's exception should carry.
/// </summary>
sealed class ReadApiDocumentation(IOptions<ApiOptions> options) : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    /// <summary>The extension by which Kiota, among others, takes a property as an error's message.</summary>
    const string PrimaryErrorMessage = "x-ms-primary-error-message";

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

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonPropertyInfo is { DeclaringType: var record, Name: "error" } && record == typeof(ProblemBody))
        {
            schema.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            schema.Extensions[PrimaryErrorMessage] = new JsonNodeExtension(JsonValue.Create(true));
        }
        return Task.CompletedTask;
    }
}
