using System.Buffers.Text;
using System.Text;
using CohortSync.Host.Configuration;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Cohorts;

/// <summary>The read side: who is in a cohort, a keyset page at a time.</summary>
public static class CohortEndpoints
{
    public static IEndpointRouteBuilder MapCohorts(this IEndpointRouteBuilder app)
    {
        var cohorts = app.MapGroup("/v1/cohorts");
        cohorts.MapGet("/{projectId}/{cohortId}/members", GetMembersAsync).WithName("GetCohortMembers");
        return app;
    }

    static async Task<Results<Ok<MemberPage>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> GetMembersAsync(
        string projectId, string cohortId, int? limit, string? after,
        MemberQueries queries, IOptions<ApiOptions> options, CancellationToken ct)
    {
        var api = options.Value;
        var take = limit ?? api.DefaultPageSize;
        if (take < 1 || take > api.MaxPageSize)
            return TypedResults.BadRequest(new ProblemBody($"limit must be between 1 and {api.MaxPageSize}"));
        string? afterId = null;
        if (after is not null && !Cursor.TryDecode(after, out afterId))
            return TypedResults.BadRequest(new ProblemBody("after is not a cursor this service issued"));

        var members = await queries.MembersAsync(projectId, cohortId, afterId, take + 1, ct);
        if (members is null)
            return TypedResults.NotFound(new ProblemBody($"no cohort {cohortId} in project {projectId}"));

        var next = members.Count > take ? Cursor.Encode(members[take - 1].DistinctId) : null;
        return TypedResults.Ok(new MemberPage(members.Take(take).ToList(), next));
    }
}

public sealed record MemberPage(IReadOnlyList<MemberView> Members, string? Next);

public sealed record ProblemBody(string Error);

/// <summary>Opaque keyset cursors: the last distinct id of a page, base64url-encoded.</summary>
static class Cursor
{
    public static string Encode(string distinctId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(distinctId));

    public static bool TryDecode(string cursor, out string? distinctId)
    {
        distinctId = null;
        try
        {
            distinctId = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return distinctId.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
