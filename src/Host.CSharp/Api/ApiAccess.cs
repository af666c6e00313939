using System.Net;
using CohortSync.Host.Observability;
using CohortSync.Host.Security;

namespace CohortSync.Host.Api;

/// <summary>
/// Who may use /v1: a caller with a configured Bearer key (401 otherwise), or, while no key is
/// configured at all, a client on this machine (403 otherwise), so that a fresh install does not
/// publish its users' profiles to the network.
/// </summary>
public static class ApiAccess
{
    public const string NoKeysMessage =
        "no API keys are configured (Api:Keys): the read API answers clients on this machine only";

    public static RouteGroupBuilder RequireApiAccess(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(CheckAsync);
        // Answers of this filter rather than of the handlers, so their result unions do not list them.
        group.WithMetadata(
            new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ProblemBody), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(ProblemBody), ["application/json"]));
        return group;
    }

    /// <summary>
    /// The rules, for every surface that applies them (/v1 here, the console in its own words): the
    /// caller's scope, or the refusal (<see cref="AccessRefusal.NotLocal"/> or <see cref="AccessRefusal.ApiKey"/>),
    /// already counted.
    /// </summary>
    internal static (ProjectScope? Scope, string? Refusal) Judge(HttpContext http, string? authorization)
    {
        var keys = http.RequestServices.GetRequiredService<ApiKeyAuthenticator>();
        if (keys.IsOpen)
        {
            // The TCP peer, or the client a known proxy names (Security:KnownProxies). Behind a proxy
            // on this machine that is not known, every request is "local": configure keys there.
            if (IsLoopback(http.Connection.RemoteIpAddress))
                return (ProjectScope.EveryProject, null);
            http.RequestServices.GetRequiredService<ServiceMetrics>().AccessRefused(AccessRefusal.NotLocal);
            return (null, AccessRefusal.NotLocal);
        }
        if (keys.Authenticate(authorization) is { } matched)
            return (matched, null);
        http.RequestServices.GetRequiredService<FailedAuthentications>().Record(http, AccessRefusal.ApiKey);
        return (null, AccessRefusal.ApiKey);
    }

    static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (scope, refusal) = Judge(http, http.Request.Headers.Authorization);
        if (scope is null)
        {
            if (refusal == AccessRefusal.NotLocal)
                return TypedResults.Json(new ProblemBody(NoKeysMessage), statusCode: StatusCodes.Status403Forbidden);
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"CohortSync\"";
            return TypedResults.Json(
                new ProblemBody("missing or wrong API key: send Authorization: Bearer <key>"), statusCode: StatusCodes.Status401Unauthorized);
        }

        http.RequestServices.GetRequiredService<ApiCaller>().Scope = scope;
        return await next(context);
    }

    internal static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
