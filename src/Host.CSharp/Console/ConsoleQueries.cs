using CohortSync.Host.Cohorts;
using CohortSync.Host.Database;
using Dapper;
using Npgsql;

namespace CohortSync.Host.OperatorConsole;

/// <summary>Refusals naming a cohort in the last 24 hours, and the latest 4xx among them.</summary>
public sealed record CohortRejections(long LastDay, DateTime? LastClientErrorAt);

/// <summary>A feed consumer, and the committed work it has not read to the end yet.</summary>
public sealed record ConsumerLag(string Name, long CommitPosition, string DistinctId, DateTime UpdatedAt, long CommitsBehind, DateTime? OldestUnreadAt);

/// <summary>
/// What the console shows beyond the read API's own queries (which it calls as they are): counts over
/// the last day, the open sessions' progress, and where feed consumers stand against the head.
/// </summary>
public sealed class ConsoleQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Mixpanel pauses a cohort's sync after these answers.</summary>
    static readonly int[] PausingStatuses = [400, 401, 403, 404];

    public static bool PausesSync(int status) => PausingStatuses.Contains(status);

    sealed record RejectionRow(string project_id, string cohort_id, long last_day, DateTime? last_client_error_at);

    /// <summary>Per (project, cohort): refusals of the last 24 hours (one scan of the time index).</summary>
    public async Task<Dictionary<(string, string), CohortRejections>> RejectionsByCohortAsync(string[]? projects, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<RejectionRow>(
            $"""
            SELECT project_id, cohort_id, count(*) AS last_day,
                   max(received_at) FILTER (WHERE status = ANY(@pausing)) AS last_client_error_at
            FROM rejected_request
            WHERE received_at > now() - interval '24 hours' AND project_id IS NOT NULL AND cohort_id IS NOT NULL
              {(projects is null ? "" : "AND project_id = ANY(@projects)")}
            GROUP BY project_id, cohort_id
            """,
            new { projects, pausing = PausingStatuses });
        return rows.ToDictionary(r => (r.project_id, r.cohort_id), r => new CohortRejections(r.last_day, r.last_client_error_at));
    }

    sealed record OpenRow(long session_key, string project_id, string cohort_id);

    /// <summary>Per (project, cohort): the actions of its open session, pages received of total.</summary>
    public async Task<Dictionary<(string, string), IReadOnlyList<ActionProgressView>>> OpenProgressAsync(string[]? projects, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var open = (await connection.QueryAsync<OpenRow>(
            $"""
            SELECT s.session_key, c.project_id, c.cohort_id
            FROM sync_session s JOIN cohort c ON c.cohort_key = s.cohort_key
            WHERE s.state = '{StorageNames.Open}' {(projects is null ? "" : "AND c.project_id = ANY(@projects)")}
            """,
            new { projects })).ToList();
        var actions = await SessionQueries.ActionsAsync(connection, open.Select(o => o.session_key).ToArray());
        return open.ToDictionary(o => (o.project_id, o.cohort_id), o => (IReadOnlyList<ActionProgressView>)actions[o.session_key].ToList());
    }

    /// <summary>The feed position of the cohort's latest commit that recorded transitions.</summary>
    public async Task<long?> LatestCommitPositionAsync(string projectId, string cohortId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long?>(
            """
            SELECT max(s.commit_position) FROM sync_session s
            WHERE s.cohort_key = (SELECT cohort_key FROM cohort WHERE project_id = @projectId AND cohort_id = @cohortId)
            """,
            new { projectId, cohortId });
    }

    /// <summary>Users of the project with this email (exact, ignoring case), found through the (project_id, lower(email), distinct_id) index.</summary>
    public async Task<IReadOnlyList<string>> DistinctIdsByEmailAsync(string projectId, string email, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(ByEmailSql, new { projectId, email })).ToList();
    }

    internal const string ByEmailSql =
        """
        SELECT distinct_id FROM user_profile
        WHERE project_id = @projectId AND lower(email) = lower(@email)
        ORDER BY distinct_id LIMIT 20
        """;

    sealed record LagRow(string name, long commit_position, string distinct_id, DateTime updated_at, long commits_behind, DateTime? oldest_unread_at);

    /// <summary>
    /// The consumers stored under <paramref name="scope"/>, each with the commits (of
    /// <paramref name="projects"/>) at or past its cursor's commit: not read to the end yet.
    /// </summary>
    public async Task<IReadOnlyList<ConsumerLag>> ConsumerLagAsync(string scope, string[]? projects, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<LagRow>(
            $"""
            SELECT f.name, f.commit_position, f.distinct_id, f.updated_at, l.commits_behind, l.oldest_unread_at
            FROM feed_consumer f
            CROSS JOIN LATERAL (
                SELECT count(*) AS commits_behind, min(s.committed_at) AS oldest_unread_at
                FROM sync_session s
                {(projects is null ? "" : "JOIN cohort c ON c.cohort_key = s.cohort_key AND c.project_id = ANY(@projects)")}
                WHERE s.commit_position >= f.commit_position
            ) l
            WHERE f.scope = @scope
            ORDER BY f.name
            """,
            new { scope, projects });
        return rows.Select(r => new ConsumerLag(r.name, r.commit_position, r.distinct_id, r.updated_at, r.commits_behind, r.oldest_unread_at)).ToList();
    }
}
