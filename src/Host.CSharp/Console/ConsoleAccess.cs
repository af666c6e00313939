using CohortSync.Host.Api;
using CohortSync.Host.Security;
using Microsoft.AspNetCore.Antiforgery;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// The console's access rules are those of /v1: with no API key configured, clients on this machine
/// only; otherwise an API key, whose projects are all the console shows. A browser cannot send a
/// Bearer header, so an operator signs in once with the key: it is kept in a cookie that only
/// /console receives (HttpOnly, SameSite=Strict, Secure over HTTPS) and checked on every request
/// like a header would be. A wrong key counts as a failed authentication.
/// </summary>
static class ConsoleAccess
{
    public const string CookieName = "cohortsync_console_key";
    public const string SignInPath = "/console/sign-in";

    public static RouteGroupBuilder RequireConsoleAccess(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(CheckAsync);
        return group;
    }

    static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(authorization) && http.Request.Cookies[CookieName] is { Length: > 0 } key)
            authorization = "Bearer " + key;
        // Not signed in yet: the sign-in page, which is no failed guess.
        if (string.IsNullOrEmpty(authorization) && !http.RequestServices.GetRequiredService<ApiKeyAuthenticator>().IsOpen)
            return TypedResults.Redirect(SignInPath);

        var (scope, refusal) = ApiAccess.Judge(http, authorization);
        if (scope is null)
        {
            if (refusal == AccessRefusal.NotLocal)
                return ConsoleLayout.Page(http, "Not on this machine", "/v1/cohorts",
                    $"""<p class="error">{Html.Text(ApiAccess.NoKeysMessage)}.</p>""", StatusCodes.Status403Forbidden);
            http.Response.Cookies.Delete(CookieName, CookieOptions(http));
            return SignInPage(http, "That key is not (or no longer) an API key of this service.", StatusCodes.Status401Unauthorized);
        }

        http.RequestServices.GetRequiredService<ApiCaller>().Scope = scope;
        return await next(context);
    }

    public static IEndpointRouteBuilder MapConsoleSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(SignInPath, (HttpContext http) => SignInPage(http, null, StatusCodes.Status200OK)).ExcludeFromDescription();
        app.MapPost(SignInPath, SignInAsync).ExcludeFromDescription().DisableAntiforgery();
        app.MapPost("/console/sign-out", SignOutAsync).ExcludeFromDescription().DisableAntiforgery();
        return app;
    }

    // Antiforgery is checked here by hand (hence DisableAntiforgery above, which only turns off the
    // automatic check) so that a refused form gets a page that says why.
    static async Task<IResult> SignInAsync(HttpContext http, IAntiforgery antiforgery, ApiKeyAuthenticator keys, FailedAuthentications failures)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
            return SignInPage(http, "The form expired or came from another site: sign in again.", StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync();
        var key = form["key"].ToString().Trim();
        if (keys.IsOpen)
            return TypedResults.Redirect("/console");
        if (key.Length == 0 || keys.Authenticate("Bearer " + key) is null)
        {
            failures.Record(http, AccessRefusal.ApiKey);
            return SignInPage(http, "That is not an API key of this service.", StatusCodes.Status401Unauthorized);
        }
        http.Response.Cookies.Append(CookieName, key, CookieOptions(http));
        return TypedResults.Redirect("/console");
    }

    static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
            return SignInPage(http, "The form expired or came from another site.", StatusCodes.Status400BadRequest);
        http.Response.Cookies.Delete(CookieName, CookieOptions(http));
        return TypedResults.Redirect(SignInPath);
    }

    static CookieOptions CookieOptions(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/console",
        IsEssential = true,
    };

    /// <summary>The hidden antiforgery field of a console form.</summary>
    public static string FormToken(HttpContext http)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return $"""<input type="hidden" name="{Html.Attr(tokens.FormFieldName)}" value="{Html.Attr(tokens.RequestToken)}">""";
    }

    static IResult SignInPage(HttpContext http, string? error, int status)
    {
        var open = http.RequestServices.GetRequiredService<ApiKeyAuthenticator>().IsOpen;
        var body = open
            ? """<p>No API key is configured: the console needs no sign-in on this machine. <a href="/console">Open the overview</a>.</p>"""
            : $"""
              <p>Sign in with an API key of this service (<code>Api:Keys</code>). The console shows the projects the key covers.</p>
              {(error is null ? "" : $"""<p class="error" role="alert">{Html.Text(error)}</p>""")}
              <form method="post" action="{SignInPath}" class="filters">
              {FormToken(http)}
              <label for="key">API key <input id="key" name="key" type="password" autocomplete="current-password" required></label>
              <button type="submit">Sign in</button>
              </form>
              """;
        return ConsoleLayout.Page(http, "Sign in", "/v1/cohorts", body, status);
    }
}
