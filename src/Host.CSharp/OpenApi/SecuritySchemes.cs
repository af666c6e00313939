using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>Endpoint metadata: the endpoint takes the webhook's Basic credentials.</summary>
public sealed record BasicAuthentication;

/// <summary>
/// Declares how callers authenticate: Basic credentials on the webhook (Webhook:Credentials), and a
/// Bearer API key on the read API under /v1.
/// </summary>
sealed class SecuritySchemes : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string Basic = "webhookBasic";
    public const string Bearer = "apiKey";
    const string ReadApiPrefix = "/v1/";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Basic] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "basic",
            Description = "The credentials configured under Webhook:Credentials, as entered in Mixpanel's webhook settings. With none configured every request is accepted.",
        };
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key of the read API (Authorization: Bearer <key>).",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var scheme =
            context.Description.ActionDescriptor.EndpointMetadata.OfType<BasicAuthentication>().Any() ? Basic
            : ("/" + context.Description.RelativePath).StartsWith(ReadApiPrefix, StringComparison.Ordinal) ? Bearer
            : null;
        if (scheme is not null)
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
        }
        return Task.CompletedTask;
    }
}
