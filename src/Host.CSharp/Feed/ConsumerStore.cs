using Dapper;
using Npgsql;

namespace CohortSync.Host.Feed;

/// <summary>Where a named worker got to in the feed, and when it said so.</summary>
public sealed record ConsumerView(string Name, string Cursor, DateTime UpdatedAt);

/// <summary>Named feed cursors, kept per API-key scope (<see cref="Security.ProjectScope.Name"/>).</summary>
public sealed class ConsumerStore(NpgsqlDataSource dataSource)
{
    sealed record Row(long commit_position, string distinct_id, DateTime updated_at);

    public async Task<ConsumerView?> GetAsync(string scope, string name, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(
            "SELECT commit_position, distinct_id, updated_at FROM feed_consumer WHERE scope = @scope AND name = @name",
            new { scope, name });
        return row is null ? null : new ConsumerView(name, new FeedCursor(row.commit_position, row.distinct_id).Encode(), row.updated_at);
    }

    /// <summary>Stores the cursor as given, backwards too: a worker may rewind to replay.</summary>
    public async Task<ConsumerView> PutAsync(string scope, string name, FeedCursor cursor, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var updatedAt = await connection.ExecuteScalarAsync<DateTime>(
            """
            INSERT INTO feed_consumer (scope, name, commit_position, distinct_id)
            VALUES (@scope, @name, @position, @distinctId)
            ON CONFLICT (scope, name) DO UPDATE
            SET commit_position = EXCLUDED.commit_position, distinct_id = EXCLUDED.distinct_id, updated_at = now()
            RETURNING updated_at
            """,
            new { scope, name, position = cursor.CommitPosition, distinctId = cursor.DistinctId });
        return new ConsumerView(name, cursor.Encode(), updatedAt);
    }
}
