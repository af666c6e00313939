using System.Text;

namespace CohortSync.Host.OperatorConsole;

/// <summary>The frame every console page shares: navigation, the page's JSON in /v1, and live refresh.</summary>
static class ConsoleLayout
{
    /// <summary>Seconds between reloads while live refresh is on (<c>?live=1</c>).</summary>
    public const int RefreshSeconds = 15;

    // No script and no inline style anywhere: the policy refuses both, so a value that slipped past
    // encoding still could not run. Charts are inline SVG drawn with presentation attributes.
    public const string SecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IResult Page(HttpContext http, string title, string jsonUrl, string body, int status = StatusCodes.Status200OK)
    {
        var live = http.Request.Query["live"] == "1";
        var path = http.Request.Path.Value ?? "/console";
        var others = http.Request.Query.Where(q => q.Key != "live")
            .Select(q => $"{Html.Url(q.Key)}={Html.Url(q.Value.ToString())}").ToList();
        var toggle = path + "?" + string.Join("&", live ? others : [.. others, "live=1"]);
        var html = new StringBuilder();
        html.Append($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            {(live ? $"""<meta http-equiv="refresh" content="{RefreshSeconds}">""" : "")}
            <title>{Html.Text(title)} · CohortSync console</title>
            <link rel="stylesheet" href="/console/console.css">
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header>
            <nav aria-label="Console">
            <a href="/console" class="brand">CohortSync</a>
            <a href="/console">Overview</a>
            <a href="/console/rejections">Rejections</a>
            <a href="/console/consumers">Feed consumers</a>
            </nav>
            <p class="tools"><a href="{Html.Attr(jsonUrl)}">JSON in /v1</a>
            <a href="{Html.Attr(toggle)}" aria-pressed="{(live ? "true" : "false")}">{(live ? $"Live refresh on ({RefreshSeconds} s): stop" : "Live refresh")}</a>
            {SignOut(http)}</p>
            </header>
            <main id="main">
            <h1>{Html.Text(title)}</h1>
            {body}
            </main>
            </body>
            </html>
            """);
        http.Response.Headers.ContentSecurityPolicy = SecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Content(html.ToString(), "text/html; charset=utf-8", statusCode: status);
    }

    static string SignOut(HttpContext http) =>
        http.Request.Cookies.ContainsKey(ConsoleAccess.CookieName)
            ? $"""<form method="post" action="/console/sign-out">{ConsoleAccess.FormToken(http)}<button type="submit">Sign out</button></form>"""
            : "";
}
