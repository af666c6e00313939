using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.UserProfiles;

/// <summary>A user's profile and cohorts; another project's user is as unknown as a missing one (404).</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder v1)
    {
        v1.MapGet("/users/{projectId}/{distinctId}", GetAsync).WithName("GetUser")
            .WithSummary("Get a user")
            .WithDescription("A user's latest profile in a project, merged field by field over the commits that carried it, and the cohorts they are a member of. 404 when the project has no such user, or the API key does not cover it.");
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
}
