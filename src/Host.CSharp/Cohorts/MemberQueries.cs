using System.Text.Json;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Cohorts;

/// <summary>A member as the read API shows it: membership joined with the latest profile.</summary>
public sealed record MemberView(
    string DistinctId, string? Email, string? FirstName, string? LastName, string? PhoneNumber, JsonElement Properties);

public sealed class MemberQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(string distinct_id, string? email, string? first_name, string? last_name, string? phone_number, string? properties);

    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>
    /// Members after <paramref name="after"/> in distinct-id order ('' sorts first under COLLATE "C"),
    /// or null when there is no such cohort. A cohort exists for readers from its first commit:
    /// staged pages are not visible.
    /// </summary>
    public async Task<IReadOnlyList<MemberView>?> MembersAsync(
        string projectId, string cohortId, string? after, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cohortKey = await connection.ExecuteScalarAsync<long?>(
            """
            SELECT cohort_key FROM cohort
            WHERE project_id = @projectId AND cohort_id = @cohortId AND last_committed_at IS NOT NULL
            """,
            new { projectId, cohortId });
        if (cohortKey is null)
            return null;

        var rows = await connection.QueryAsync<Row>(
            """
            SELECT m.distinct_id, p.email, p.first_name, p.last_name, p.phone_number, p.properties::text AS properties
            FROM membership m
            LEFT JOIN user_profile p ON p.project_id = @projectId AND p.distinct_id = m.distinct_id
            WHERE m.cohort_key = @cohortKey AND m.distinct_id > @after
            ORDER BY m.distinct_id
            LIMIT @take
            """,
            new { projectId, cohortKey, after = after ?? "", take });
        return rows
            .Select(r => new MemberView(
                r.distinct_id, r.email, r.first_name, r.last_name, r.phone_number,
                r.properties is null ? EmptyObject : JsonDocument.Parse(r.properties).RootElement.Clone()))
            .ToList();
    }
}
