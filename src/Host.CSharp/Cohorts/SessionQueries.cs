using Dapper;
using Npgsql;

namespace CohortSync.Host.Cohorts;

/// <summary>How far an action of a session got: pages received of its <c>total_pages</c>.</summary>
public sealed record ActionProgressView(string Action, int PagesReceived, int TotalPages);

/// <summary>
/// One sync of a cohort. <c>Entered</c> and <c>Exited</c> are the users the commit added and removed
/// (null until it commits); a superseded session names the session that replaced it.
/// </summary>
public sealed record SessionView(
    string SessionId, string Kind, string State, IReadOnlyList<ActionProgressView> Actions, int? Entered, int? Exited,
    DateTime FirstPageAt, DateTime LastPageAt, DateTime? CommittedAt, string? SupersededBy);

/// <summary>A cohort's sync history, newest first.</summary>
public sealed class SessionQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(
        long session_key, string session_id, string kind, string state, int? entered_count, int? exited_count,
        DateTime first_page_at, DateTime last_page_at, DateTime? committed_at, string? superseded_by);

    sealed record ActionRow(long session_key, string action, int total_pages, long received);

    /// <summary>Sessions opened before <paramref name="beforeKey"/>, newest first, with their row keys
    /// (the cursor); null when there is no such cohort.</summary>
    public async Task<IReadOnlyList<(long Key, SessionView Session)>?> HistoryAsync(
        string projectId, string cohortId, long beforeKey, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cohortKey = await connection.ExecuteScalarAsync<long?>(
            "SELECT cohort_key FROM cohort WHERE project_id = @projectId AND cohort_id = @cohortId", new { projectId, cohortId });
        if (cohortKey is null)
            return null;

        var sessions = (await connection.QueryAsync<Row>(
            """
            SELECT s.session_key, s.session_id, s.kind, s.state, s.entered_count, s.exited_count,
                   s.first_page_at, s.last_page_at, s.committed_at, b.session_id AS superseded_by
            FROM sync_session s
            LEFT JOIN sync_session b ON b.session_key = s.superseded_by
            WHERE s.cohort_key = @cohortKey AND s.session_key < @beforeKey
            ORDER BY s.session_key DESC
            LIMIT @take
            """,
            new { cohortKey, beforeKey, take })).ToList();

        var actions = await ActionsAsync(connection, sessions.Select(s => s.session_key).ToArray());
        return sessions
            .Select(s => (s.session_key, new SessionView(
                s.session_id, s.kind, s.state, actions[s.session_key].ToList(),
                s.entered_count, s.exited_count, s.first_page_at, s.last_page_at, s.committed_at, s.superseded_by)))
            .ToList();
    }

    /// <summary>The pages received of each action's total, of the sessions with these row keys.</summary>
    internal static async Task<ILookup<long, ActionProgressView>> ActionsAsync(NpgsqlConnection connection, long[] keys) =>
        (await connection.QueryAsync<ActionRow>(
            """
            SELECT a.session_key, a.action, a.total_pages, count(p.page_count) AS received
            FROM session_action a
            LEFT JOIN session_page p ON p.session_key = a.session_key AND p.action = a.action
            WHERE a.session_key = ANY(@keys)
            GROUP BY a.session_key, a.action, a.total_pages
            ORDER BY a.session_key, a.action
            """,
            new { keys }))
        .ToLookup(a => a.session_key, a => new ActionProgressView(a.action, (int)a.received, a.total_pages));
}
