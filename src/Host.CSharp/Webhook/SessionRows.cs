using CohortSync.Domain;
using Dapper;
using Npgsql;
using static CohortSync.Domain.SessionAssembly;
using static CohortSync.Host.Database.StorageNames;

namespace CohortSync.Host.Webhook;

/// <summary>
/// The part of a cohort's session state that a decision reads: the page's own session, the open one
/// (at most one is open) with the pages received so far, and the sealed ones waiting to be committed;
/// and the row key of each.
/// </summary>
sealed record SessionRows(State State, Dictionary<SessionId, long> Keys)
{
    // A class, not a positional record: Npgsql reports array columns as System.Array, which Dapper
    // will only assign to a property.
    sealed class Row
    {
        public long session_key { get; init; }
        public string session_id { get; init; } = "";
        public string kind { get; init; } = "";
        public string state { get; init; } = "";
        public string? action { get; init; }
        public int? total_pages { get; init; }
        public int[] received { get; init; } = [];
    }

    /// <summary>Loads the page's session whatever its status (none when <paramref name="sessionId"/> is null), the open
    /// one, and the sealed ones in the order they were sealed (the order they must be committed in).</summary>
    public static async Task<SessionRows> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long cohortKey, SessionId? sessionId)
    {
        var rows = await connection.QueryAsync<Row>(
            $$"""
            SELECT s.session_key, s.session_id, s.kind, s.state, a.action, a.total_pages,
                   COALESCE(array_agg(p.page_count) FILTER (WHERE p.page_count IS NOT NULL), '{}') AS received
            FROM sync_session s
            LEFT JOIN session_action a ON a.session_key = s.session_key AND s.state = '{{Open}}'
            LEFT JOIN session_page p ON p.session_key = a.session_key AND p.action = a.action
            WHERE s.cohort_key = @cohortKey AND (s.session_id = @sessionId OR s.state IN ('{{Open}}', '{{Sealed}}'))
            GROUP BY s.session_key, s.session_id, s.kind, s.state, a.action, a.total_pages
            ORDER BY s.seal_position NULLS LAST, s.session_key
            """,
            new { cohortKey, sessionId = sessionId?.Value }, tx);

        var keys = new Dictionary<SessionId, long>();
        var sessions = rows
            .GroupBy(r => r.session_key)
            .Select(g =>
            {
                var first = g.First();
                var id = SessionId.Of(first.session_id);
                keys[id] = first.session_key;
                var progress = g
                    .Where(r => r.action is not null && r.total_pages is not null)
                    .Select(r => KeyValuePair.Create(WebhookAction.FromWireName(r.action!), ActionProgress.Of(r.total_pages!.Value, r.received)));
                return Session.Of(id, SessionKind.FromName(first.kind), SessionStatus.FromName(first.state), progress);
            })
            .ToList();
        return new SessionRows(State.Of(sessions), keys);
    }
}
