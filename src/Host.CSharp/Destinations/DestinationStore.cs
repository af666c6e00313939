using System.Text.Json;
using CohortSync.Host.Feed;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host.Destinations;

/// <summary>Destinations in PostgreSQL. Every call is limited to the caller's projects (null: every project).</summary>
public sealed class DestinationStore(NpgsqlDataSource dataSource, IOptions<DestinationOptions> options)
{
    // A class, not a positional record: Dapper matches constructors by exact type, and reads text[] as Array.
    internal sealed class Row
    {
        public Guid destination_id { get; init; }
        public string kind { get; init; } = "";
        public string project_id { get; init; } = "";
        public string? url { get; init; }
        public string[]? cohort_ids { get; init; }
        public string[] kinds { get; init; } = [];
        public int batch_size { get; init; }
        public bool enabled { get; init; }
        public string state { get; init; } = "";
        public int? reentry_cooldown_seconds { get; init; }
        public DateTime? previous_secret_until { get; init; }
        public DateTime created_at { get; init; }
        public DateTime updated_at { get; init; }
        public string? mixpanel_region { get; init; }
        public string? mixpanel_username { get; init; }
        public string? mixpanel_project_id { get; init; }
        public string? event_names { get; init; }
        public string? event_properties { get; init; }

        public DestinationView View(MixpanelOptions hosts) => new(
            destination_id.ToString(), kind, project_id, url ?? hosts.ImportUrl(mixpanel_region!), cohort_ids, kinds, batch_size, enabled, state,
            reentry_cooldown_seconds, previous_secret_until > DateTime.UtcNow ? previous_secret_until : null, created_at, updated_at,
            Mixpanel() is { } m
                ? new MixpanelView(m.Region, m.Authentication, m.ServiceAccountUsername, m.ImportProjectId, m.EventNames,
                    JsonDocument.Parse(m.PropertiesJson).RootElement.Clone())
                : null);

        public DestinationSettings Settings() =>
            new(kind, url, project_id, cohort_ids, kinds, batch_size, enabled, reentry_cooldown_seconds, Mixpanel());

        MixpanelSettings? Mixpanel() => kind != DestinationKind.Mixpanel
            ? null
            : new MixpanelSettings(mixpanel_region!, mixpanel_username is null ? MixpanelAuthentication.Token : MixpanelAuthentication.ServiceAccount,
                mixpanel_username, mixpanel_project_id!, JsonSerializer.Deserialize<MixpanelEventNames>(event_names!, JsonSerializerOptions.Web)!,
                event_properties!, null);
    }

    // Never the secrets: they are read only to send.
    const string Columns =
        "destination_id, kind, project_id, url, cohort_ids, kinds, batch_size, enabled, state, reentry_cooldown_seconds, previous_secret_until, created_at, updated_at, " +
        "mixpanel_region, mixpanel_username, mixpanel_project_id, event_names::text AS event_names, event_properties::text AS event_properties";

    const string MixpanelColumns =
        "mixpanel_region = @region, mixpanel_project_id = @importProjectId, event_names = @eventNames::jsonb, event_properties = @properties::jsonb, " +
        "mixpanel_username = CASE WHEN @hasCredentials THEN @username ELSE mixpanel_username END, " +
        "mixpanel_secret = CASE WHEN @hasCredentials THEN @mixpanelSecret ELSE mixpanel_secret END";

    MixpanelOptions Hosts => options.Value.Mixpanel;

    /// <summary>The view of a row read by <see cref="GetAsync"/>.</summary>
    internal DestinationView View(Row row) => row.View(Hosts);

    static DynamicParameters Parameters(MixpanelSettings? m, object others)
    {
        var parameters = new DynamicParameters(MixpanelParameters(m));
        parameters.AddDynamicParams(others);
        return parameters;
    }

    static object MixpanelParameters(MixpanelSettings? m) => new
    {
        region = m?.Region, importProjectId = m?.ImportProjectId,
        eventNames = m is null ? null : JsonSerializer.Serialize(m.EventNames, JsonSerializerOptions.Web),
        properties = m?.PropertiesJson, hasCredentials = m?.NewCredentials is not null,
        username = m?.NewCredentials?.ServiceAccountUsername, mixpanelSecret = m?.NewCredentials?.Secret,
    };

    const string InScope = "(@projects::text[] IS NULL OR project_id = ANY(@projects))";

    /// <summary>Creates the destination; it is sent what the feed records from now on.</summary>
    public async Task<CreatedDestination> CreateAsync(DestinationSettings s, CancellationToken ct)
    {
        var secret = s.Kind == DestinationKind.Webhook ? SigningSecret.New() : null;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Forming starts past the newest commit (the head is read as the feed reads it) and past the newest action report.
        var row = await connection.QuerySingleAsync<Row>(
            $"""
            INSERT INTO destination (destination_id, kind, project_id, url, cohort_ids, kinds, batch_size, enabled, reentry_cooldown_seconds,
                                     secret, formed_position, formed_distinct_id, reports_formed_position,
                                     mixpanel_region, mixpanel_project_id, event_names, event_properties, mixpanel_username, mixpanel_secret)
            VALUES (@id, @Kind, @ProjectId, @Url, @CohortIds, @Kinds, @BatchSize, @Enabled, @ReentryCooldownSeconds,
                    @secret, COALESCE((SELECT max(commit_position) FROM sync_session), -1) + 1, '',
                    COALESCE((SELECT max(position) FROM action_report WHERE project_id = @ProjectId), 0),
                    @region, @importProjectId, @eventNames::jsonb, @properties::jsonb, @username, @mixpanelSecret)
            RETURNING {Columns}
            """,
            Parameters(s.Mixpanel, new { id = Guid.NewGuid(), s.Kind, s.ProjectId, s.Url, s.CohortIds, s.Kinds, s.BatchSize, s.Enabled, s.ReentryCooldownSeconds, secret }));
        return new CreatedDestination(row.View(Hosts), secret);
    }

    public async Task<IReadOnlyList<DestinationView>> ListAsync(string[]? projects, string? projectId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(
            $"SELECT {Columns} FROM destination WHERE {InScope} AND (@projectId::text IS NULL OR project_id = @projectId) ORDER BY created_at, destination_id",
            new { projects, projectId });
        return [.. rows.Select(r => r.View(Hosts))];
    }

    internal async Task<Row?> GetAsync(Guid id, string[]? projects, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Row>(
            $"SELECT {Columns} FROM destination WHERE destination_id = @id AND {InScope}", new { id, projects });
    }

    /// <summary>Stores new settings. Enabling also clears a failing or gone state, and the waiting batch is tried at once.</summary>
    public async Task<DestinationView?> UpdateAsync(Guid id, string[]? projects, DestinationSettings s, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var before = await connection.QuerySingleOrDefaultAsync<Row>(
            $"SELECT {Columns} FROM destination WHERE destination_id = @id AND {InScope} FOR UPDATE", new { id, projects }, tx);
        if (before is null)
            return null;
        var resume = s.Enabled && (!before.enabled || before.state != "active");
        var row = await connection.QuerySingleAsync<Row>(
            $"""
            UPDATE destination
            SET url = @Url, cohort_ids = @CohortIds, kinds = @Kinds, batch_size = @BatchSize, enabled = @Enabled,
                reentry_cooldown_seconds = @ReentryCooldownSeconds, updated_at = now(),
                state = CASE WHEN @resume THEN 'active' ELSE state END
                {(s.Mixpanel is null ? "" : ", " + MixpanelColumns)}
            WHERE destination_id = @id
            RETURNING {Columns}
            """,
            Parameters(s.Mixpanel, new { id, s.Url, s.CohortIds, s.Kinds, s.BatchSize, s.Enabled, s.ReentryCooldownSeconds, resume }), tx);
        if (resume)
            await connection.ExecuteAsync(
                "UPDATE delivery_batch SET schedule_step = 0, next_attempt_at = now() WHERE destination_id = @id AND state = 'pending'",
                new { id }, tx);
        await tx.CommitAsync(ct);
        return row.View(Hosts);
    }

    public async Task<bool> DeleteAsync(Guid id, string[]? projects, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // The ledger has no foreign key (db/0012), nor its cohorts' marks (db/0014): their rows go with the
        // destination, in the same transaction.
        return await connection.ExecuteScalarAsync<bool>(
            $"""
            WITH gone AS (DELETE FROM destination WHERE destination_id = @id AND {InScope} RETURNING destination_id),
                 ledger AS (DELETE FROM destination_ledger WHERE destination_id IN (SELECT destination_id FROM gone)),
                 begun AS (DELETE FROM destination_ledger_cohort WHERE destination_id IN (SELECT destination_id FROM gone))
            SELECT EXISTS (SELECT 1 FROM gone)
            """, new { id, projects });
    }

    /// <summary>A new secret; the current one becomes the previous and keeps signing for the grace period.</summary>
    public async Task<RotatedSecret?> RotateSecretAsync(Guid id, string[]? projects, CancellationToken ct)
    {
        var secret = SigningSecret.New();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var until = await connection.QuerySingleOrDefaultAsync<DateTime?>(
            $"""
            UPDATE destination
            SET previous_secret = secret, secret = @secret, updated_at = now(),
                previous_secret_until = now() + make_interval(secs => @grace)
            WHERE destination_id = @id AND {InScope} AND kind = 'webhook'
            RETURNING previous_secret_until
            """,
            new { id, projects, secret, grace = options.Value.RotationGraceHours * 3600 });
        return until is { } u ? new RotatedSecret(secret, u) : null;
    }

    /// <summary>Starts a replay from just after <paramref name="from"/> up to where forming has got to.</summary>
    public async Task<ReplayView?> ReplayAsync(Guid id, string[]? projects, FeedCursor from, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var end = await connection.QuerySingleOrDefaultAsync<(long, string)?>(
            $"""
            UPDATE destination
            SET replay_position = @position, replay_distinct_id = @distinctId,
                replay_end_position = formed_position, replay_end_distinct_id = formed_distinct_id, updated_at = now()
            WHERE destination_id = @id AND {InScope}
            RETURNING formed_position, formed_distinct_id
            """,
            new { id, projects, position = from.CommitPosition, distinctId = from.DistinctId });
        return end is var (p, d) ? new ReplayView(from.Encode(), new FeedCursor(p, d).Encode()) : null;
    }
}
