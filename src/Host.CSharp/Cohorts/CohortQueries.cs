using Dapper;
using Npgsql;

namespace CohortSync.Host.Cohorts;

/// <summary>A session in short, as a cohort shows its latest.</summary>
public sealed record SessionSummary(
    string SessionId, string Kind, string State, DateTime FirstPageAt, DateTime LastPageAt, DateTime? CommittedAt);

/// <summary>
/// A cohort as the read API shows it. It is listed from its first page on; <c>MemberCount</c> and
/// <c>LastCommittedAt</c> tell whether a session has committed yet.
/// </summary>
public sealed record CohortView(
    string ProjectId, string CohortId, string? Name, string? Description, long MemberCount,
    DateTime? LastCommittedAt, SessionSummary? LastSession);

/// <summary>Cohorts and their latest session: one index lookup per cohort, no counting of members.</summary>
public sealed class CohortQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(
        string project_id, string cohort_id, string? name, string? description, long member_count, DateTime? last_committed_at,
        string? session_id, string? kind, string? state, DateTime? first_page_at, DateTime? last_page_at, DateTime? committed_at);

    const string Select = """
        SELECT c.project_id, c.cohort_id, c.name, c.description, c.member_count, c.last_committed_at,
               s.session_id, s.kind, s.state, s.first_page_at, s.last_page_at, s.committed_at
        FROM cohort c
        LEFT JOIN LATERAL (
            SELECT session_id, kind, state, first_page_at, last_page_at, committed_at
            FROM sync_session WHERE cohort_key = c.cohort_key
            ORDER BY session_key DESC LIMIT 1
        ) s ON true
        """;

    /// <summary>Cohorts after (<paramref name="afterProject"/>, <paramref name="afterCohort"/>) in id order,
    /// of <paramref name="projects"/> only unless it is null ('' sorts first: ids are never empty).</summary>
    public async Task<IReadOnlyList<CohortView>> ListAsync(
        string[]? projects, string afterProject, string afterCohort, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(
            Select + (projects is null ? " WHERE " : " WHERE c.project_id = ANY(@projects) AND ") +
            """
            (c.project_id, c.cohort_id) > (@afterProject, @afterCohort)
            ORDER BY c.project_id, c.cohort_id
            LIMIT @take
            """,
            new { projects, afterProject, afterCohort, take });
        return rows.Select(View).ToList();
    }

    public async Task<CohortView?> GetAsync(string projectId, string cohortId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            Select + " WHERE c.project_id = @projectId AND c.cohort_id = @cohortId", new { projectId, cohortId });
        return row is null ? null : View(row);
    }

    static CohortView View(Row r) =>
        new(r.project_id, r.cohort_id, r.name, r.description, r.member_count, r.last_committed_at,
            r.session_id is null
                ? null
                : new SessionSummary(r.session_id, r.kind!, r.state!, r.first_page_at!.Value, r.last_page_at!.Value, r.committed_at));
}
