using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>A refused request, as recorded: never its body, never its credentials.</summary>
public sealed record Rejection(
    int Status, string Reason, string Message, long? SizeBytes,
    string? Action = null, string? ProjectId = null, string? CohortId = null, string? SessionId = null);

/// <summary>Records refused requests in the background, so that a refusal is never slowed (or failed) by it.</summary>
public sealed class RejectionLog(NpgsqlDataSource dataSource, ILogger<RejectionLog> logger)
{
    public void Record(Rejection rejection) => _ = RecordAsync(rejection);

    async Task RecordAsync(Rejection r)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await connection.ExecuteAsync(
                """
                INSERT INTO rejected_request (status, reason, message, size_bytes, action, project_id, cohort_id, session_id)
                VALUES (@Status, @Reason, @Message, @SizeBytes, @Action, @ProjectId, @CohortId, @SessionId)
                """, r);
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not record a {Reason} rejection: {Error}", r.Reason, e.Message);
        }
    }
}
