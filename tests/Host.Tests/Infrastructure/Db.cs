using Dapper;
using Npgsql;

namespace CohortSync.Host.Tests.Infrastructure;

public sealed record TransitionRow(long commit_position, string session_id, string kind, string distinct_id)
{
    public override string ToString() => $"{session_id}:{kind}:{distinct_id}";
}

public sealed record SessionRow(
    long session_key, string session_id, string kind, string state, string? superseded_by_id,
    DateTime? committed_at, int? entered_count, int? exited_count);

public sealed record RejectionRow(
    long rejection_id, int status, string reason, string message, long? size_bytes,
    string? action, string? project_id, string? cohort_id, string? session_id);

/// <summary>Reads the host's tables directly, to check what the HTTP answers cannot show.</summary>
public static class Db
{
    public static async Task<List<TransitionRow>> TransitionsAsync(string connectionString, TestCohort cohort)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (await connection.QueryAsync<TransitionRow>(
            """
            SELECT s.commit_position, s.session_id, t.kind, t.distinct_id
            FROM transition t
            JOIN cohort c ON c.cohort_key = t.cohort_key
            JOIN sync_session s ON s.session_key = t.session_key
            WHERE c.project_id = @Project AND c.cohort_id = @Cohort
            ORDER BY s.commit_position, t.kind DESC, t.distinct_id
            """, cohort)).ToList();
    }

    /// <summary>The cohort's sessions in the order they were opened.</summary>
    public static async Task<List<SessionRow>> SessionsAsync(string connectionString, TestCohort cohort)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (await connection.QueryAsync<SessionRow>(
            """
            SELECT s.session_key, s.session_id, s.kind, s.state, b.session_id AS superseded_by_id,
                   s.committed_at, s.entered_count, s.exited_count
            FROM sync_session s
            JOIN cohort c ON c.cohort_key = s.cohort_key
            LEFT JOIN sync_session b ON b.session_key = s.superseded_by
            WHERE c.project_id = @Project AND c.cohort_id = @Cohort
            ORDER BY s.session_key
            """, cohort)).ToList();
    }

    /// <summary>Waits until the session has the state (a session sealed is committed behind, a moment later).</summary>
    public static async Task WaitForSessionStateAsync(string connectionString, TestCohort cohort, string sessionId, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await SessionsAsync(connectionString, cohort)).SingleOrDefault(s => s.session_id == sessionId)?.state != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"session {sessionId} did not become {state}");
            await Task.Delay(50);
        }
    }

    /// <summary>Staged members still held for the cohort's sessions (none once a session committed or was superseded).</summary>
    public static async Task<long> StagedMembersAsync(string connectionString, TestCohort cohort, string sessionId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*)
            FROM staged_page sp
            CROSS JOIN LATERAL unnest(sp.distinct_ids) AS sm(distinct_id)
            JOIN session_page p ON p.upload_id = sp.upload_id
            JOIN sync_session s ON s.session_key = p.session_key
            JOIN cohort c ON c.cohort_key = s.cohort_key
            WHERE c.project_id = @Project AND c.cohort_id = @Cohort AND s.session_id = @sessionId
            """, new { cohort.Project, cohort.Cohort, sessionId });
    }

    public static async Task<long> RejectionMarkAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT COALESCE(max(rejection_id), 0) FROM rejected_request");
    }

    /// <summary>Rejections recorded after <paramref name="mark"/>, waiting (they are written in the background)
    /// until <paramref name="until"/> holds or a few seconds pass.</summary>
    public static async Task<List<RejectionRow>> RejectionsSinceAsync(
        string connectionString, long mark, Func<List<RejectionRow>, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            var rows = (await connection.QueryAsync<RejectionRow>(
                """
                SELECT rejection_id, status, reason, message, size_bytes, action, project_id, cohort_id, session_id
                FROM rejected_request WHERE rejection_id > @mark ORDER BY rejection_id
                """, new { mark })).ToList();
            if (until(rows) || DateTime.UtcNow > deadline)
                return rows;
            await Task.Delay(50);
        }
    }

    public static async Task ExecuteAsync(string connectionString, string sql, object? args = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(sql, args);
    }
}
