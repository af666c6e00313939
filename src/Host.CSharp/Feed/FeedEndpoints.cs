using CohortSync.Host.Api;
using CohortSync.Host.Configuration;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Feed;

/// <summary><c>Next</c> is where to continue: the last event's cursor, or <c>after</c> when nothing is new yet.</summary>
public sealed record FeedPage(IReadOnlyList<FeedEvent> Events, string Next);

/// <summary>
/// The change feed: every user entering or leaving a cohort, in the order the commits became
/// visible, each exactly once to a reader that follows <c>next</c>.
/// </summary>
public static class FeedEndpoints
{
    public static RouteGroupBuilder MapFeed(this RouteGroupBuilder v1)
    {
        v1.MapGet("/events", GetEventsAsync).WithName("GetEvents");
        return v1;
    }

    static async Task<Results<Ok<FeedPage>, BadRequest<ProblemBody>>> GetEventsAsync(
        string? after, int? limit, string? projectId, string? cohortId, string? kind,
        FeedQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        var from = FeedCursor.Start;
        if (after is not null && !FeedCursor.TryDecode(after, out from))
            return Paging.BadCursor();
        if (kind is not (null or "entered" or "exited"))
            return TypedResults.BadRequest(new ProblemBody("kind must be entered or exited"));
        if (cohortId is not null && projectId is null)
            return TypedResults.BadRequest(new ProblemBody("cohortId needs projectId (cohort ids are per project)"));

        // Another project's events are filtered out like any other: the page is simply empty.
        var events = await queries.EventsAsync(new FeedFilter(caller.Scope.Projects, projectId, cohortId, kind), from, take, ct);
        return TypedResults.Ok(new FeedPage(events, events.Count > 0 ? events[^1].Cursor : from.Encode()));
    }
}
