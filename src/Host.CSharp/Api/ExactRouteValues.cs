using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;

namespace CohortSync.Host.Api;

/// <summary>
/// Ids in paths, decoded exactly. ASP.NET Core decodes a path except <c>%2F</c>, which it leaves
/// encoded (a decoded slash would split the segment), while it does decode <c>%25</c>: so a route
/// value <c>a%2Fb</c> may have been sent as <c>a%2Fb</c> (id <c>a/b</c>) or as <c>a%252Fb</c> (id
/// <c>a%2Fb</c>). Mixpanel ids are any text, so each whole-segment route parameter is decoded again
/// from the request line as sent.
/// </summary>
static class ExactRouteValues
{
    public static RouteGroupBuilder DecodeIdsExactly(this RouteGroupBuilder group)
    {
        group.AddEndpointFilterFactory((factory, next) =>
        {
            var parameters = factory.MethodInfo.GetParameters();
            return context =>
            {
                if (context.HttpContext.GetEndpoint() is RouteEndpoint { RoutePattern: var pattern }
                    && RawSegments(context.HttpContext) is { } raw && raw.Length == pattern.PathSegments.Count)
                {
                    for (var s = 0; s < raw.Length; s++)
                    {
                        if (pattern.PathSegments[s].Parts is not [RoutePatternParameterPart { IsCatchAll: false } part])
                            continue;
                        for (var i = 0; i < parameters.Length; i++)
                            if (parameters[i].ParameterType == typeof(string) && parameters[i].Name == part.Name)
                                context.Arguments[i] = Uri.UnescapeDataString(raw[s]);
                    }
                }
                return next(context);
            };
        });
        return group;
    }

    /// <summary>The path of the request line, split into its still-encoded segments; null when it was not
    /// sent in origin form or was normalised (<c>.</c>, <c>..</c>, <c>//</c>), when the route value stands.</summary>
    static string[]? RawSegments(HttpContext http)
    {
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || !target.StartsWith('/'))
            return null;
        var path = target.Split('?', 2)[0];
        var segments = path[1..].Split('/');
        return segments.Length == http.Request.Path.Value!.Count(c => c == '/') ? segments : null;
    }
}
