using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>The service's OpenAPI document, served at <see cref="Path"/>.</summary>
public static class OpenApiDocumentSetup
{
    public const string Path = "/openapi/v1.json";

    // Mixpanel's ids arrive as JSON strings or numbers; the records above can only say string.
    static readonly HashSet<string> IdProperties =
        ["mixpanel_project_id", "mixpanel_cohort_id", "mixpanel_session_id", "mixpanel_distinct_id"];

    public static IServiceCollection AddCohortSyncOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            // A member's or an event's properties get a named schema of their own (NamedSchemas), not JsonElement's "anything".
            options.CreateSchemaReferenceId = type =>
                (Nullable.GetUnderlyingType(type.Type) ?? type.Type) == typeof(JsonElement) ? null : OpenApiOptions.CreateDefaultSchemaReferenceId(type);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "CohortSync",
                    Version = "v1",
                    Description = "Receives Mixpanel cohort syncs (custom webhook) and serves cohort membership from PostgreSQL.",
                };
                // The framework lists the address the document was fetched from, which a generated client
                // would take as its default base address; without servers, paths are relative to the document.
                document.Servers = [];
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<SecuritySchemes>();
            options.AddOperationTransformer<SecuritySchemes>();
            options.AddOperationTransformer<ReadApiDocumentation>();
            options.AddSchemaTransformer<ReadApiDocumentation>();
            options.AddDocumentTransformer(MetricsDocumentation.AddMetricsPath);
            options.AddDocumentTransformer<NamedSchemas>();
            options.AddOperationTransformer<NamedSchemas>();
            options.AddSchemaTransformer((schema, context, _) =>
            {
                if (context.JsonPropertyInfo is { } property && IdProperties.Contains(property.Name))
                    schema.Type = JsonSchemaType.String | JsonSchemaType.Number;
                // The extension data that keeps every other exported property is not a property itself.
                if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Type == typeof(CohortSyncMember))
                    schema.AdditionalProperties = new OpenApiSchema { Description = "Any other exported property, kept verbatim." };
                // The service's enums are all written as their names.
                if (context.JsonTypeInfo.Type.IsEnum)
                    schema.Type = JsonSchemaType.String;
                return Task.CompletedTask;
            });
        });

    public static IEndpointRouteBuilder MapCohortSyncOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(Path);
        return app;
    }
}
