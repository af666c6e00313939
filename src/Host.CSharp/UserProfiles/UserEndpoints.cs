using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.UserProfiles;

/// <summary>A user's profile and cohorts; another project's user is as unknown as a missing one (404).</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder v1)
    {
        v1.MapGet("/users/{projectId}/{distinctId}", GetAsync).WithName("GetUser");
        return v1;
    }

    static async Task<Results<Ok<UserView>, NotFound<ProblemBody>>> GetAsync(
        string projectId, string distinctId, UserQueries queries, ApiCaller caller, CancellationToken ct)
    {
        var user = caller.Scope.Includes(projectId) ? await queries.UserAsync(projectId, distinctId, ct) : null;
        return user is null
            ? TypedResults.NotFound(new ProblemBody($"no user {distinctId} in project {projectId}"))
            : TypedResults.Ok(user);
    }
}
