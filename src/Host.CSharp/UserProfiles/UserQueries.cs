using Dapper;
using Npgsql;

namespace CohortSync.Host.UserProfiles;

/// <summary>A cohort a user is in, and since when.</summary>
public sealed record UserCohortView(string CohortId, string? Name, DateTime EnteredAt);

/// <summary>A user of a project: their latest profile, and every cohort they are in now.</summary>
public sealed record UserView(string ProjectId, string DistinctId, ProfileView Profile, IReadOnlyList<UserCohortView> Cohorts);

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
}
