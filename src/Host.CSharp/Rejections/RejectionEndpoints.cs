using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Rejections;

public sealed record RejectionPage(IReadOnlyList<RejectionView> Rejections, string? Next);

/// <summary>
/// Refused webhook requests, newest first. A key for some projects sees the refusals that name one of
/// them; refusals that name no project (unreadable bodies, wrong credentials) only a key for every project.
/// </summary>
public static class RejectionEndpoints
{
    public static RouteGroupBuilder MapRejections(this RouteGroupBuilder v1)
    {
        v1.MapGet("/rejections", ListAsync).WithName("ListRejections")
            .WithSummary("List refused webhook requests")
            .WithDescription("The webhook requests the service refused, newest first, with their status, reason and message; projectId and cohortId keep those naming that project or cohort. A key for some projects sees the refusals that name one of them; refusals that name no project (unreadable bodies, wrong credentials) only a key for every project.");
        return v1;
    }

    static async Task<Results<Ok<RejectionPage>, BadRequest<ProblemBody>>> ListAsync(
        [Description("Only the refusals naming this Mixpanel project.")] string? projectId,
        [Description("Only the refusals naming this cohort id (of any project the key covers, unless projectId is given too).")] string? cohortId,
        string? limit, [Description(ParameterText.After)] string? after, RejectionQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        var beforeId = long.MaxValue;
        if (after is not null && !Cursor.TryDecode(after, out beforeId))
            return Paging.BadCursor();

        var filter = new RejectionFilter(NullIfEmpty(projectId), NullIfEmpty(cohortId));
        var rows = await queries.ListAsync(caller.Scope.Projects, filter, beforeId, take + 1, ct);
        var next = rows.Count > take ? Cursor.Encode(rows[take - 1].Id) : null;
        return TypedResults.Ok(new RejectionPage(rows.Take(take).Select(r => r.Rejection).ToList(), next));
    }

    static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
