using Dapper;
using Npgsql;

namespace CohortSync.Host.UserProfiles;

/// <summary>A cohort a user is in, and since when.</summary>
public sealed record UserCohortView(string CohortId, string? Name, DateTime EnteredAt);

/// <summary>A user of a project: their latest profile, and every cohort they are in now.</summary>
public sealed record UserView(string ProjectId, string DistinctId, ProfileView Profile, IReadOnlyList<UserCohortView> Cohorts);

/// <summary>The user entered or exited a cohort in a session's commit; <c>Cursor</c> is its place in the feed.</summary>
public sealed record UserTransitionView(string Cursor, string Kind, string CohortId, string? CohortName, string SessionId, DateTime RecordedAt);

/// <summary>A page of a user's transitions across the cohorts of their project, newest first.</summary>
public sealed record UserHistoryPage(string ProjectId, string DistinctId, IReadOnlyList<UserTransitionView> Transitions, string? Next);

public sealed class UserQueries(NpgsqlDataSource dataSource)
{
    sealed record CohortRow(string cohort_id, string? name, DateTime entered_at);

    /// <summary>The user, or null when no commit of the project ever carried them.</summary>
    public async Task<UserView?> UserAsync(string projectId, string distinctId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var profile = await connection.QuerySingleOrDefaultAsync<ProfileView.Row>(
            """
            SELECT email, first_name, last_name, phone_number, properties::text AS properties, updated_at
            FROM user_profile WHERE project_id = @projectId AND distinct_id = @distinctId
            """,
            new { projectId, distinctId });
        if (profile is null)
            return null;

        // One primary-key probe per cohort of the project (a project has few cohorts: Mixpanel allows
        // 60 recurring syncs), so no index on membership by user is needed.
        var cohorts = await connection.QueryAsync<CohortRow>(
            """
            SELECT c.cohort_id, c.name, m.entered_at
            FROM cohort c
            JOIN membership m ON m.cohort_key = c.cohort_key AND m.distinct_id = @distinctId
            WHERE c.project_id = @projectId
            ORDER BY c.cohort_id
            """,
            new { projectId, distinctId });
        return new UserView(
            projectId, distinctId, ProfileView.From(profile),
            cohorts.Select(c => new UserCohortView(c.cohort_id, c.name, c.entered_at)).ToList());
    }

    /// <summary>Whether any commit of the project carried the user.</summary>
    public async Task<bool> ExistsAsync(string projectId, string distinctId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM user_profile WHERE project_id = @projectId AND distinct_id = @distinctId)",
            new { projectId, distinctId });
    }

    sealed record TransitionRow(long commit_position, string kind, string cohort_id, string? name, string session_id, DateTime recorded_at);

    /// <summary>
    /// The user's transitions in commits before <paramref name="beforePosition"/>, newest first, with each
    /// commit's feed position (the keyset). A commit stores its transitions in chunks in distinct-id order,
    /// so each commit of the project is probed for the one chunk that could hold the user, through the
    /// (session_key, last_id) index: the cost grows with the project's commits, not with their sizes.
    /// </summary>
    public async Task<IReadOnlyList<(long Position, UserTransitionView Transition)>> HistoryAsync(
        string projectId, string distinctId, long beforePosition, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<TransitionRow>(HistorySql, new { projectId, distinctId, beforePosition, take });
        return rows
            .Select(r => (r.commit_position, new UserTransitionView(
                new Feed.FeedCursor(r.commit_position, distinctId).Encode(), r.kind, r.cohort_id, r.name, r.session_id, r.recorded_at)))
            .ToList();
    }

    internal const string HistorySql =
        """
        SELECT s.commit_position, t.kind, c.cohort_id, c.name, s.session_id, t.recorded_at
        FROM cohort c
        JOIN sync_session s ON s.cohort_key = c.cohort_key
        CROSS JOIN LATERAL (
            SELECT ch.kinds[array_position(ch.distinct_ids, @distinctId::text)] AS kind, ch.recorded_at
            FROM transition_chunk ch
            WHERE ch.session_key = s.session_key AND ch.last_id >= @distinctId
            ORDER BY ch.last_id
            LIMIT 1
        ) t
        WHERE c.project_id = @projectId AND s.commit_position < @beforePosition AND t.kind IS NOT NULL
        ORDER BY s.commit_position DESC
        LIMIT @take
        """;
}
