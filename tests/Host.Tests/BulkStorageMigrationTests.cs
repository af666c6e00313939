using CohortSync.Host;
using CohortSync.Host.Database;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CohortSync.Host.Tests;

/// <summary>
/// db/0005_bulk_storage.sql rewrites data a database already holds: recorded transitions move into chunks,
/// and the members of pages under way into staged pages. A database at 0004 with both is migrated, and
/// must keep every transition and let the session under way commit with every member it had staged.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class BulkStorageMigrationTests(HostFixture fx)
{
    sealed record Transition(long session_key, string distinct_id, string kind, DateTime recorded_at);

    [Fact]
    public async Task Transitions_and_pages_under_way_survive_the_move_to_bulk_storage()
    {
        var database = await fx.CreateDatabaseAsync();
        MigratedBefore.Script(database, "0005");

        var c = TestCohort.New("mig");
        await using (var connection = new NpgsqlConnection(database))
        {
            // A committed full sync of 2,500 users (three chunks once moved), and a diff session under way with
            // two pages of add_members staged out of three, the old way: a row per member.
            await connection.ExecuteAsync(
                """
                INSERT INTO cohort (project_id, cohort_id, last_committed_at, member_count) VALUES (@Project, @Cohort, now(), 2500);
                INSERT INTO sync_session (cohort_key, session_id, kind, state, committed_at, entered_count, exited_count, commit_position)
                SELECT cohort_key, 'full', 'full', 'committed', now(), 2500, 0, nextval('commit_position_seq') FROM cohort WHERE cohort_id = @Cohort;
                INSERT INTO membership (cohort_key, distinct_id, session_key)
                SELECT s.cohort_key, 'u' || lpad(g::text, 5, '0'), s.session_key FROM sync_session s, generate_series(1, 2500) g WHERE s.session_id = 'full';
                INSERT INTO transition (cohort_key, distinct_id, kind, session_key, recorded_at)
                SELECT s.cohort_key, 'u' || lpad(g::text, 5, '0'), 'entered', s.session_key, now() - interval '1 hour'
                FROM sync_session s, generate_series(2500, 1, -1) g WHERE s.session_id = 'full';
                INSERT INTO sync_session (cohort_key, session_id, kind, state)
                SELECT cohort_key, 'diff', 'diff', 'open' FROM cohort WHERE cohort_id = @Cohort;
                INSERT INTO session_action (session_key, action, total_pages) SELECT session_key, 'add_members', 3 FROM sync_session WHERE session_id = 'diff';
                INSERT INTO session_action (session_key, action, total_pages) SELECT session_key, 'remove_members', 1 FROM sync_session WHERE session_id = 'diff';
                INSERT INTO session_page (session_key, action, page_count, upload_id, member_count)
                SELECT session_key, 'add_members', p, nextval('upload_id_seq'), 2 FROM sync_session, generate_series(1, 2) p WHERE session_id = 'diff';
                INSERT INTO staged_member (upload_id, ordinal, distinct_id, email, properties)
                SELECT p.upload_id, o, 'new-' || p.page_count || '-' || o, 'new-' || p.page_count || '-' || o || '@example.com', '{"plan":"pro"}'
                FROM session_page p, generate_series(0, 1) o WHERE p.action = 'add_members';
                """, new { c.Project, c.Cohort });
        }
        var before = await TransitionsAsync(database);
        Assert.Equal(2500, before.Count);

        await using (var dataSource = NpgsqlDataSource.Create(database))
            await Migrations.ApplyAsync(dataSource, NullLogger.Instance);

        Assert.Equal(before, await TransitionsAsync(database));
        await using (var connection = new NpgsqlConnection(database))
        {
            var chunks = (await connection.QueryAsync<(int chunk, int size, string last_id, bool ordered)>(
                """
                SELECT chunk, cardinality(distinct_ids), last_id,
                       distinct_ids = ARRAY(SELECT unnest(distinct_ids) ORDER BY 1) AND last_id = distinct_ids[cardinality(distinct_ids)]
                FROM transition_chunk ORDER BY chunk
                """)).ToList();
            Assert.Equal([(0, 1000, "u01000", true), (1, 1000, "u02000", true), (2, 500, "u02500", true)], chunks);
        }

        // The session under way commits with its staged members and its last pages, and its profiles are there.
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Retention:Enabled"] = "false" }, database);
        await host.Client.PostOkAsync(c.Add("diff", 3, 3, "new-3-0"));
        await host.Client.PostOkAsync(c.Remove("diff", 1, 1, "u00001", "u02500"));
        var members = await host.Client.MemberIdsAsync(c, limit: 1000);
        var expected = Enumerable.Range(2, 2498).Select(i => $"u{i:D5}")
            .Concat(["new-1-0", "new-1-1", "new-2-0", "new-2-1", "new-3-0"]).Order(StringComparer.Ordinal);
        Assert.Equal(expected, members);
        var profile = (await host.Client.GetAllMembersAsync(c)).Single(m => m.DistinctId == "new-2-1");
        Assert.Equal("new-2-1@example.com", profile.Email);
    }

    static async Task<List<Transition>> TransitionsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        return (await connection.QueryAsync<Transition>(
            "SELECT session_key, distinct_id, kind, recorded_at FROM transition ORDER BY session_key, distinct_id")).ToList();
    }
}
