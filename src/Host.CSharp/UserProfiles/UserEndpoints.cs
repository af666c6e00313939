using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.UserProfiles;

/// <summary>A user's profile and cohorts; another project's user is as unknown as a missing one (404).</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder v1)
    {
        v1.MapGet("/users/{projectId}/{distinctId}", GetAsync).WithName("GetUser")
            .WithSummary("Get a user")
            .WithDescription("A user's latest profile in a project, merged field by field over the commits that carried it, and the cohorts they are a member of. 404 when the project has no such user, or the API key does not cover it.");
        v1.MapGet("/users/{projectId}/{distinctId}/history", GetHistoryAsync).WithName("GetUserHistory")
            .WithSummary("List a user's transitions across cohorts")
            .WithDescription("Every time the user entered or exited a cohort of the project, newest first (in reverse feed order), with the session whose commit recorded it; as far back as the feed keeps transitions. 404 when the project has no such user, or the API key does not cover it.");
        return v1;
    }

    static async Task<Results<Ok<UserView>, NotFound<ProblemBody>>> GetAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.DistinctId)] string distinctId, UserQueries queries, ApiCaller caller, CancellationToken ct)
    {
        var user = caller.Scope.Includes(projectId) ? await queries.UserAsync(projectId, distinctId, ct) : null;
        return user is null
            ? TypedResults.NotFound(new ProblemBody($"no user {distinctId} in project {projectId}"))
            : TypedResults.Ok(user);
    }

    static async Task<Results<Ok<UserHistoryPage>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> GetHistoryAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.DistinctId)] string distinctId,
        string? limit, [Description(ParameterText.After)] string? after,
        UserQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        var before = long.MaxValue;
        if (after is not null && !Cursor.TryDecode(after, out before))
            return Paging.BadCursor();
        if (!caller.Scope.Includes(projectId) || !await queries.ExistsAsync(projectId, distinctId, ct))
            return TypedResults.NotFound(new ProblemBody($"no user {distinctId} in project {projectId}"));

        var rows = await queries.HistoryAsync(projectId, distinctId, before, take + 1, ct);
        var next = rows.Count > take ? Cursor.Encode(rows[take - 1].Position) : null;
        return TypedResults.Ok(new UserHistoryPage(projectId, distinctId, rows.Take(take).Select(r => r.Transition).ToList(), next));
    }
}
