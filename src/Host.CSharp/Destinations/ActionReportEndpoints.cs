using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.Destinations;

/// <summary>
/// <c>POST /v1/projects/{projectId}/actions</c>: a downstream system reports the actions it took. They are
/// stored before the answer, once per id, and forwarded to the project's mixpanel destinations.
/// </summary>
public static class ActionReportEndpoints
{
    public const string ReportActionsName = "ReportActions";

    public static RouteGroupBuilder MapActionReports(this RouteGroupBuilder v1)
    {
        v1.MapPost("/projects/{projectId}/actions", ReportAsync).WithName(ReportActionsName)
            .WithSummary("Report actions taken")
            .WithDescription("Stores up to 1,000 actions a downstream system took for users (a message sent, say), each once per id, and answers 202 once they are stored; a repeated id is accepted and stored once (while the first is kept: Retention:ActionReportDays). They are then sent, as events with a $insert_id derived from their id, to every mixpanel destination of the project, with the same reliability as changes. A request with any bad action stores nothing and answers 400 naming every problem.")
            .Accepts<ActionReportsBody>("application/json");
        return v1;
    }

    static async Task<Results<Accepted<ActionReportsStored>, BadRequest<ProblemBody>, JsonHttpResult<ProblemBody>>> ReportAsync(
        [Description("The Mixpanel project whose mixpanel destinations are sent the actions.")] string projectId,
        HttpRequest request, ActionReportStore store, ApiCaller caller, CancellationToken ct)
    {
        if (!caller.Scope.Includes(projectId))
            return TypedResults.Json(new ProblemBody($"this API key does not reach project {projectId}"), statusCode: StatusCodes.Status403Forbidden);
        if (projectId.Length > 255 || !Cursor.IsStorable(projectId))
            return TypedResults.BadRequest(new ProblemBody("projectId must be a Mixpanel project id"));
        using var reader = new StreamReader(request.Body);
        var (reports, problem) = ActionReportReader.Read(projectId, await reader.ReadToEndAsync(ct), DateTime.UtcNow);
        if (reports is null)
            return TypedResults.BadRequest(new ProblemBody(problem!));
        return TypedResults.Accepted((string?)null, await store.StoreAsync(projectId, reports, ct));
    }
}
