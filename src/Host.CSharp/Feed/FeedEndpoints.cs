using System.ComponentModel;
using CohortSync.Domain;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Feed;

/// <summary>
/// <c>Next</c> is where to continue: the last event's cursor when the page is full; otherwise just past every
/// commit the page's query could see (all of which it examined), or <c>after</c> when that is not further.
/// </summary>
public sealed record FeedPage(IReadOnlyList<FeedEvent> Events, string Next);

/// <summary>
/// The change feed: every user entering or leaving a cohort, in the order the commits became
/// visible, each exactly once to a reader that follows <c>next</c>.
/// </summary>
public static class FeedEndpoints
{
    public const string GetEventsName = "GetEvents";

    public static RouteGroupBuilder MapFeed(this RouteGroupBuilder v1)
    {
        v1.MapGet("/events", GetEventsAsync).WithName(GetEventsName)
            .WithSummary("Read the change feed")
            .WithDescription("Every user entering or leaving a cohort, in the order the commits became visible, each exactly once to a reader that follows next. An empty page's next is where to poll again.");
        return v1;
    }

    static async Task<Results<Ok<FeedPage>, BadRequest<ProblemBody>>> GetEventsAsync(
        [Description("A cursor this feed issued (a page's next, or an event's cursor), to continue just after it; left out, the start of the feed.")] string? after,
        string? limit,
        [Description("Only events of this Mixpanel project.")] string? projectId,
        [Description("Only events of this cohort; needs projectId, as cohort ids are per project.")] string? cohortId,
        [Description("Only users entering (entered) or only users leaving (exited).")] string? kind,
        FeedQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        var from = FeedCursor.Start;
        if (after is not null && !FeedCursor.TryDecode(after, out from))
            return Paging.BadCursor();
        if (kind is not null && !TransitionKind.Names.Contains(kind))
            return TypedResults.BadRequest(new ProblemBody($"kind must be {string.Join(" or ", TransitionKind.Names)}"));
        if (cohortId is not null && projectId is null)
            return TypedResults.BadRequest(new ProblemBody("cohortId needs projectId (cohort ids are per project)"));

        // Another project's events are filtered out like any other: the page is simply empty.
        var read = await queries.EventsAsync(new FeedFilter(caller.Scope.Projects, projectId, cohortId, kind), from, take, ct);
        return TypedResults.Ok(new FeedPage(read.Events, Next(read, from, take)));
    }

    /// <summary>
    /// A full page may have stopped anywhere: it continues after its last event. A page that is not full
    /// examined every commit visible to its query, up to the head it read in the same snapshot; positions
    /// are taken under the feed lock and become visible in order, so none at or below the head can still
    /// appear, and any later commit takes a higher one. Continuing at the start of the commit after the
    /// head is then safe, and a filtered reader does not examine the same commits again at its next poll.
    /// </summary>
    static string Next(FeedRead read, FeedCursor after, int take) => NextCursor(read, after, take).Encode();

    /// <summary>Where a reader continues after this page (<see cref="Next"/>), for readers inside the service.</summary>
    internal static FeedCursor NextCursor(FeedRead read, FeedCursor after, int take) =>
        read.Events.Count == take ? new FeedCursor(read.Events[^1].CommitPosition, read.Events[^1].DistinctId)
        : read.Events.Count < take && read.Head is { } head && head + 1 > after.CommitPosition ? FeedCursor.PastCommit(head)
        : after;
}
