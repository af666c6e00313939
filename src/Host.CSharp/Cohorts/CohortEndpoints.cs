using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Cohorts;

/// <summary>
/// Cohorts, their members and their sync history. A cohort of a project the caller's key does not
/// cover answers 404 exactly like one that does not exist, so a key learns nothing of other projects.
/// </summary>
public static class CohortEndpoints
{
    public static RouteGroupBuilder MapCohorts(this RouteGroupBuilder v1)
    {
        var cohorts = v1.MapGroup("/cohorts");
        cohorts.MapGet("", ListAsync).WithName("ListCohorts")
            .WithSummary("List cohorts")
            .WithDescription("The cohorts of the projects the API key covers, by project id then cohort id. A cohort is listed from the first page of its first session on; memberCount and lastCommittedAt tell whether a session has committed yet.");
        cohorts.MapGet("/{projectId}/{cohortId}", GetAsync).WithName("GetCohort")
            .WithSummary("Get a cohort")
            .WithDescription("A cohort's name and description (the latest sent), its member count and its latest session. 404 when there is no such cohort in a project the API key covers.");
        cohorts.MapGet("/{projectId}/{cohortId}/members", GetMembersAsync).WithName("GetCohortMembers")
            .WithSummary("List a cohort's members")
            .WithDescription("The cohort's membership as of its last committed session, in distinct id order, each member with their latest profile. A session's pages change it only once all of them are in.");
        cohorts.MapGet("/{projectId}/{cohortId}/members/{distinctId}", GetMembershipAsync).WithName("GetCohortMember")
            .WithSummary("Get a user's membership of a cohort")
            .WithDescription("Since when the user is a member, the session whose commit added them, and their profile. 404 when the user is not a member, or there is no such cohort.");
        cohorts.MapGet("/{projectId}/{cohortId}/sessions", GetSessionsAsync).WithName("GetCohortSessions")
            .WithSummary("List a cohort's sessions")
            .WithDescription("The cohort's sync history, newest first: each session's kind and state, the pages received of each action's total_pages, and the users its commit added and removed.");
        return v1;
    }

    static NotFound<ProblemBody> NoCohort(string projectId, string cohortId) =>
        TypedResults.NotFound(new ProblemBody($"no cohort {cohortId} in project {projectId}"));

    static async Task<Results<Ok<CohortPage>, BadRequest<ProblemBody>>> ListAsync(
        string? limit, [Description(ParameterText.After)] string? after, CohortQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        string afterProject = "", afterCohort = "";
        if (after is not null && !Cursor.TryDecode(after, out afterProject, out afterCohort))
            return Paging.BadCursor();

        var cohorts = await queries.ListAsync(caller.Scope.Projects, afterProject, afterCohort, take + 1, ct);
        var next = cohorts.Count > take ? Cursor.Encode(cohorts[take - 1].ProjectId, cohorts[take - 1].CohortId) : null;
        return TypedResults.Ok(new CohortPage(cohorts.Take(take).ToList(), next));
    }

    static async Task<Results<Ok<CohortView>, NotFound<ProblemBody>>> GetAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.CohortId)] string cohortId, CohortQueries queries, ApiCaller caller, CancellationToken ct)
    {
        var cohort = caller.Scope.Includes(projectId) ? await queries.GetAsync(projectId, cohortId, ct) : null;
        return cohort is null ? NoCohort(projectId, cohortId) : TypedResults.Ok(cohort);
    }

    static async Task<Results<Ok<MemberPage>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> GetMembersAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.CohortId)] string cohortId, string? limit, [Description(ParameterText.After)] string? after,
        MemberQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        string? afterId = null;
        if (after is not null && !Cursor.TryDecode(after, out afterId))
            return Paging.BadCursor();

        var members = caller.Scope.Includes(projectId) ? await queries.MembersAsync(projectId, cohortId, afterId, take + 1, ct) : null;
        if (members is null)
            return NoCohort(projectId, cohortId);

        var next = members.Count > take ? Cursor.Encode(members[take - 1].DistinctId) : null;
        return TypedResults.Ok(new MemberPage(members.Take(take).ToList(), next));
    }

    static async Task<Results<Ok<MembershipView>, NotFound<ProblemBody>>> GetMembershipAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.CohortId)] string cohortId, [Description(ParameterText.DistinctId)] string distinctId,
        MemberQueries queries, ApiCaller caller, CancellationToken ct)
    {
        if (!caller.Scope.Includes(projectId))
            return NoCohort(projectId, cohortId);
        var (cohortFound, membership) = await queries.MembershipAsync(projectId, cohortId, distinctId, ct);
        if (!cohortFound)
            return NoCohort(projectId, cohortId);
        return membership is null
            ? TypedResults.NotFound(new ProblemBody($"{distinctId} is not a member of cohort {cohortId} in project {projectId}"))
            : TypedResults.Ok(membership);
    }

    static async Task<Results<Ok<SessionPage>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> GetSessionsAsync(
        [Description(ParameterText.ProjectId)] string projectId, [Description(ParameterText.CohortId)] string cohortId, string? limit, [Description(ParameterText.After)] string? after,
        SessionQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        var beforeKey = long.MaxValue;
        if (after is not null && !Cursor.TryDecode(after, out beforeKey))
            return Paging.BadCursor();

        var sessions = caller.Scope.Includes(projectId) ? await queries.HistoryAsync(projectId, cohortId, beforeKey, take + 1, ct) : null;
        if (sessions is null)
            return NoCohort(projectId, cohortId);

        var next = sessions.Count > take ? Cursor.Encode(sessions[take - 1].Key) : null;
        return TypedResults.Ok(new SessionPage(sessions.Take(take).Select(s => s.Session).ToList(), next));
    }
}

public sealed record CohortPage(IReadOnlyList<CohortView> Cohorts, string? Next);

public sealed record MemberPage(IReadOnlyList<MemberView> Members, string? Next);

public sealed record SessionPage(IReadOnlyList<SessionView> Sessions, string? Next);
