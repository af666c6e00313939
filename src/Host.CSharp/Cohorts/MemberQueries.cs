using System.Text.Json;
using CohortSync.Host.Api;
using CohortSync.Host.UserProfiles;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Cohorts;

/// <summary>A member as the read API shows it: membership joined with the latest profile.</summary>
public sealed record MemberView(
    string DistinctId, string? Email, string? FirstName, string? LastName, string? PhoneNumber, JsonElement Properties);

/// <summary>
/// One user's membership of a cohort: since when, the session whose commit added them (null once retention
/// has deleted that session's history), and their profile.
/// </summary>
public sealed record MembershipView(
    string ProjectId, string CohortId, string DistinctId, bool Member, DateTime EnteredAt, string? EnteredInSession, ProfileView? Profile);

public sealed class MemberQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(string distinct_id, string? email, string? first_name, string? last_name, string? phone_number, string? properties);

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
                JsonText.ObjectOrEmpty(r.properties)))
            .ToList();
    }

    sealed record MembershipRow(DateTime entered_at, string? session_id);

    /// <summary>
    /// The user's membership (null when they are not a member), and whether there is such a cohort at
    /// all (by the same first-commit rule as <see cref="MembersAsync"/>).
    /// </summary>
    public async Task<(bool CohortFound, MembershipView? Membership)> MembershipAsync(
        string projectId, string cohortId, string distinctId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var cohortKey = await connection.ExecuteScalarAsync<long?>(
            """
            SELECT cohort_key FROM cohort
            WHERE project_id = @projectId AND cohort_id = @cohortId AND last_committed_at IS NOT NULL
            """,
            new { projectId, cohortId });
        if (cohortKey is null)
            return (false, null);

        // A left join: retention deletes old sessions, never the memberships they let in.
        var membership = await connection.QuerySingleOrDefaultAsync<MembershipRow>(
            """
            SELECT m.entered_at, s.session_id
            FROM membership m LEFT JOIN sync_session s ON s.session_key = m.session_key
            WHERE m.cohort_key = @cohortKey AND m.distinct_id = @distinctId
            """,
            new { cohortKey, distinctId });
        if (membership is null)
            return (true, null);

        var profile = await connection.QuerySingleOrDefaultAsync<ProfileView.Row>(
            """
            SELECT email, first_name, last_name, phone_number, properties::text AS properties, updated_at
            FROM user_profile WHERE project_id = @projectId AND distinct_id = @distinctId
            """,
            new { projectId, distinctId });
        return (true, new MembershipView(
            projectId, cohortId, distinctId, true, membership.entered_at, membership.session_id,
            profile is null ? null : ProfileView.From(profile)));
    }
}
