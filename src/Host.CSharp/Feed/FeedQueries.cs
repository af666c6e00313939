using System.Text.Json.Serialization;
using CohortSync.Domain.Targeting;
using CohortSync.Host.Database;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Feed;

/// <summary>
/// One transition as the feed shows it; <c>Cursor</c> resumes the feed just after it. <c>CommitPosition</c>, its
/// session's, is the cursor's own (with <c>DistinctId</c>), for the service's readers: they need not decode it.
/// </summary>
public sealed record FeedEvent(
    string Cursor, string Kind, string ProjectId, string CohortId, string DistinctId, string SessionId, DateTime RecordedAt,
    [property: JsonIgnore] long CommitPosition)
{
    /// <summary>Its place in the feed, as the domain orders it.</summary>
    public FeedPosition Position() => new(CommitPosition, DistinctId);
}

/// <summary>Which transitions a reader follows; null is "any".</summary>
public sealed record FeedFilter(string[]? Projects, string? ProjectId, string? CohortId, string? Kind);

/// <summary>
/// A page of the feed, and <c>Head</c>: the highest commit position visible to the same statement (null
/// before the first commit). Positions become visible in order, so every commit at or below it was visible
/// to that statement too.
/// </summary>
public sealed record FeedRead(IReadOnlyList<FeedEvent> Events, long? Head);

/// <summary>Transitions in feed order: by the commit position of their session, then by distinct id.</summary>
public sealed class FeedQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(
        long? head, long? commit_position, string? distinct_id, string? kind, string? project_id, string? cohort_id,
        string? session_id, DateTime? recorded_at);

    public async Task<FeedRead> EventsAsync(FeedFilter filter, FeedCursor after, int take, CancellationToken ct)
    {
        var sessions = new List<string> { "s.commit_position >= @position" };
        if (filter.Projects is not null)
            sessions.Add("c.project_id = ANY(@projects)");
        if (filter.CohortId is not null)
            // Through the cohort's key, so the (cohort_key, commit_position) index drives the scan.
            sessions.Add("s.cohort_key = (SELECT cohort_key FROM cohort WHERE project_id = @projectId AND cohort_id = @cohortId)");
        else if (filter.ProjectId is not null)
            sessions.Add("c.project_id = @projectId");
        // A commit counts what it recorded of each kind, so one with none of the kind asked for is passed
        // over without reading its transitions. No index serves the kind inside a commit: it would cost a
        // write per transition to every commit, while a filtered reader, whose next moves past what it
        // examined, reads each transition at most once, as an unfiltered reader does.
        if (filter.Kind == StorageNames.Entered)
            sessions.Add("s.entered_count IS DISTINCT FROM 0");
        else if (filter.Kind == StorageNames.Exited)
            sessions.Add("s.exited_count IS DISTINCT FROM 0");

        // Sessions in commit order; of each, at most a page of its transitions in distinct-id order,
        // starting after the cursor's user within the cursor's own commit. A commit's transitions are
        // chunks of up to 1,000 in distinct-id order (db/0005_bulk_storage.sql), and (chunk, position) is
        // distinct-id order. The planner cannot know that an array unnests in order, so given all of a
        // commit's chunks past the cursor it unnests every one of them to sort (1.5 s a page at the start of
        // a commit of a million, measured: every batch a destination forms paid it). So `walk` first finds
        // the chunks the page needs, one index probe each, counting what each holds for this reader, until
        // it has enough: a page unnests a chunk or two and costs the same at the start of a commit of a
        // million users as at its end.
        // The head is read by the same statement, and so from the same snapshot, as the page.
        const string cursorId = "CASE WHEN s.commit_position = @position THEN @distinctId ELSE '' END";
        var ofKind = filter.Kind is null ? "" : "AND v.kind = @kind";
        var sql = $"""
            SELECT h.head, e.*
            FROM (SELECT max(commit_position) AS head FROM sync_session) h
            LEFT JOIN LATERAL (
                SELECT s.commit_position, t.distinct_id, t.kind, c.project_id, c.cohort_id, s.session_id, t.recorded_at
                FROM sync_session s
                JOIN cohort c ON c.cohort_key = s.cohort_key
                CROSS JOIN LATERAL (
                    WITH RECURSIVE walk (chunk, counted) AS (
                        SELECT f.chunk, f.counted FROM (
                            SELECT ch.chunk, (SELECT count(*) FROM unnest(ch.distinct_ids, ch.kinds) AS v(distinct_id, kind)
                                              WHERE v.distinct_id > {cursorId} {ofKind}) AS counted
                            FROM transition_chunk ch
                            WHERE ch.session_key = s.session_key AND ch.last_id > {cursorId}
                            ORDER BY ch.chunk
                            LIMIT 1) f
                        UNION ALL
                        SELECT ch.chunk, w.counted + (SELECT count(*) FROM unnest(ch.distinct_ids, ch.kinds) AS v(distinct_id, kind)
                                                      WHERE true {ofKind})
                        FROM walk w
                        JOIN transition_chunk ch ON ch.session_key = s.session_key
                         AND ch.chunk = (SELECT min(n.chunk) FROM transition_chunk n WHERE n.session_key = s.session_key AND n.chunk > w.chunk)
                        WHERE w.counted < @take
                    )
                    SELECT u.distinct_id, u.kind, ch.recorded_at
                    FROM walk w
                    JOIN transition_chunk ch ON ch.session_key = s.session_key AND ch.chunk = w.chunk
                    CROSS JOIN LATERAL unnest(ch.distinct_ids, ch.kinds) WITH ORDINALITY AS u(distinct_id, kind, n)
                    WHERE u.distinct_id > {cursorId}
                      {(filter.Kind is null ? "" : "AND u.kind = @kind")}
                    ORDER BY ch.chunk, u.n
                    LIMIT @take
                ) t
                WHERE {string.Join(" AND ", sessions)}
                ORDER BY s.commit_position, t.distinct_id
                LIMIT @take
            ) e ON true
            ORDER BY e.commit_position, e.distinct_id
            """;

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<Row>(sql, new
        {
            position = after.CommitPosition,
            distinctId = after.DistinctId,
            projects = filter.Projects,
            projectId = filter.ProjectId,
            cohortId = filter.CohortId,
            kind = filter.Kind,
            take,
        })).ToList();
        var events = rows
            .Where(r => r.commit_position is not null)
            .Select(r => new FeedEvent(
                new FeedCursor(r.commit_position!.Value, r.distinct_id!).Encode(),
                r.kind!, r.project_id!, r.cohort_id!, r.distinct_id!, r.session_id!, r.recorded_at!.Value, r.commit_position.Value))
            .ToList();
        return new FeedRead(events, rows.Count > 0 ? rows[0].head : null);
    }
}
