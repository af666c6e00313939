using Dapper;
using Npgsql;

namespace CohortSync.Host.Rejections;

/// <summary>A webhook request the service refused, as <c>rejected_request</c> recorded it.</summary>
public sealed record RejectionView(
    DateTime ReceivedAt, int Status, string Reason, string Message, long? SizeBytes,
    string? Action, string? ProjectId, string? CohortId, string? SessionId);

/// <summary>Which refusals to list: those naming this project, this cohort (null: any).</summary>
public sealed record RejectionFilter(string? ProjectId, string? CohortId);

public sealed class RejectionQueries(NpgsqlDataSource dataSource)
{
    sealed record Row(
        long rejection_id, DateTime received_at, int status, string reason, string message, long? size_bytes,
        string? action, string? project_id, string? cohort_id, string? session_id);

    /// <summary>Refusals recorded before <paramref name="beforeId"/>, newest first, with their ids (the
    /// cursor); only those naming one of <paramref name="projects"/> unless it is null, and the project and
    /// cohort of <paramref name="filter"/> when it names them.</summary>
    public async Task<IReadOnlyList<(long Id, RejectionView Rejection)>> ListAsync(
        string[]? projects, RejectionFilter filter, long beforeId, int take, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(
            $"""
            SELECT rejection_id, received_at, status, reason, message, size_bytes, action, project_id, cohort_id, session_id
            FROM rejected_request
            WHERE rejection_id < @beforeId {(projects is null ? "" : "AND project_id = ANY(@projects)")}
              {(filter.ProjectId is null ? "" : "AND project_id = @ProjectId")} {(filter.CohortId is null ? "" : "AND cohort_id = @CohortId")}
            ORDER BY rejection_id DESC
            LIMIT @take
            """,
            new { beforeId, projects, take, filter.ProjectId, filter.CohortId });
        return rows
            .Select(r => (r.rejection_id, new RejectionView(
                r.received_at, r.status, r.reason, r.message, r.size_bytes, r.action, r.project_id, r.cohort_id, r.session_id)))
            .ToList();
    }
}
