using Dapper;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Action reports in PostgreSQL, stored before they are acknowledged, once per report id. A repeat is known by
/// the stored row, so once retention has deleted a report its id is taken as new again: the report is then
/// sent again with the same <c>$insert_id</c>, which Mixpanel deduplicates, rather than every id being kept forever.
/// </summary>
public sealed class ActionReportStore(NpgsqlDataSource dataSource)
{
    /// <summary>Stores what is new; a report id still stored (or repeated in the request) is kept as first stored.</summary>
    public async Task<ActionReportsStored> StoreAsync(string projectId, IReadOnlyList<ActionReport> reports, CancellationToken ct)
    {
        var distinct = reports.DistinctBy(r => r.ReportId, StringComparer.Ordinal).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // One writer per project at a time: positions then become visible in order, and forming never skips one.
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('action_report'), hashtext(@projectId))", new { projectId }, tx);
        var stored = await connection.ExecuteAsync(
            """
            INSERT INTO action_report (project_id, report_id, distinct_id, event, occurred_at, properties)
            SELECT @projectId, r.report_id, r.distinct_id, r.event, r.occurred_at, r.properties::jsonb
            FROM unnest(@ids::text[], @users::text[], @events::text[], @times::timestamptz[], @properties::text[])
                 WITH ORDINALITY AS r(report_id, distinct_id, event, occurred_at, properties, n)
            ORDER BY r.n
            ON CONFLICT (project_id, report_id) DO NOTHING
            """,
            new
            {
                projectId,
                ids = distinct.Select(r => r.ReportId).ToArray(),
                users = distinct.Select(r => r.DistinctId).ToArray(),
                events = distinct.Select(r => r.Event).ToArray(),
                times = distinct.Select(r => DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc)).ToArray(),
                properties = distinct.Select(r => r.PropertiesJson).ToArray(),
            }, tx);
        await tx.CommitAsync(ct);
        return new ActionReportsStored(stored, reports.Count - stored);
    }
}
