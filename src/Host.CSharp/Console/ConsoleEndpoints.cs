using CohortSync.Host.Api;
using CohortSync.Host.Cohorts;
using CohortSync.Host.Destinations;
using CohortSync.Host.Feed;
using CohortSync.Host.Rejections;
using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.OperatorConsole;

/// <summary>The operator console under /console: HTML rendered on the server from the read API's own queries.</summary>
public static class ConsoleEndpoints
{
    public static IServiceCollection AddConsole(this IServiceCollection services) =>
        services.AddSingleton<ConsoleQueries>().AddAntiforgery(o =>
        {
            o.Cookie.Name = "cohortsync_console_form";
            o.Cookie.Path = "/console";
            o.Cookie.SameSite = SameSiteMode.Strict;
        });

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console/console.css", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Text(ConsoleStyle.Css, "text/css; charset=utf-8");
        }).ExcludeFromDescription();
        app.MapConsoleSignIn();

        var console = app.MapGroup("/console").RequireConsoleAccess().ExcludeFromDescription();
        console.MapGet("", (HttpContext http, string? sort, string? health, string? q, CohortQueries cohorts, ConsoleQueries queries, ApiCaller caller, CancellationToken ct) =>
            OverviewPage.RenderAsync(http, sort, health, q, cohorts, queries, caller, ct));
        console.MapGet("/cohorts/{projectId}/{cohortId}", (HttpContext http, string projectId, string cohortId, string? member,
                CohortQueries cohorts, SessionQueries sessions, FeedQueries feed, ConsoleQueries queries, ApiCaller caller, CancellationToken ct) =>
            CohortPage.RenderAsync(http, projectId, cohortId, member, cohorts, sessions, feed, queries, caller, ct));
        console.MapGet("/users/{projectId}/{distinctId}", (HttpContext http, string projectId, string distinctId, string? after, UserQueries users, ApiCaller caller, CancellationToken ct) =>
            MemberPage.RenderAsync(http, projectId, distinctId, after, users, caller, ct));
        console.MapGet("/rejections", (HttpContext http, string? before, string? project, string? cohort, RejectionQueries queries, ApiCaller caller, CancellationToken ct) =>
            RejectionsPage.RenderAsync(http, before, project, cohort, queries, caller, ct));
        console.MapGet("/consumers", (HttpContext http, ConsoleQueries queries, DestinationStore store, DeliveryQueries deliveries, ApiCaller caller, CancellationToken ct) =>
            ConsumersPage.RenderAsync(http, queries, store, deliveries, caller, ct));
        console.MapDestinationReplay();
        return app;
    }
}
