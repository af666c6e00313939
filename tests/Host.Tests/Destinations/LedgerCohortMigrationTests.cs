using CohortSync.Host.Database;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>
/// db/0014_ledger_cohorts.sql lets forming skip looking up the stays of a change in the commit a destination's
/// ledger of its cohort began in. Ledgers begun before it must be marked as begun before every commit, or their
/// stays would go unread (and be copied in again as new).
/// </summary>
[Collection(HostCollection.Name)]
public sealed class LedgerCohortMigrationTests(HostFixture fx)
{
    [Fact]
    public async Task Ledgers_begun_before_the_marks_are_marked_as_begun_before_every_commit()
    {
        var database = await fx.CreateDatabaseAsync();
        MigratedBefore.Script(database, "0014");

        var (one, two) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var connection = new NpgsqlConnection(database))
            await connection.ExecuteAsync(
                """
                INSERT INTO destination_ledger (destination_id, cohort_id, distinct_id, in_cohort, targeted, exited_at, last_position, last_distinct_id)
                VALUES (@one, 'c1', 'a', true, true, NULL, 7, 'a'), (@one, 'c1', 'b', true, true, NULL, 7, 'b'),
                       (@one, 'c2', 'a', false, true, now(), 9, 'a'), (@two, 'c1', 'a', true, true, NULL, 7, 'a')
                """, new { one, two });

        await using (var dataSource = NpgsqlDataSource.Create(database))
            await Migrations.ApplyAsync(dataSource, NullLogger.Instance);

        await using (var connection = new NpgsqlConnection(database))
        {
            var marks = await connection.QueryAsync<(Guid, string, long)>(
                "SELECT destination_id, cohort_id, first_position FROM destination_ledger_cohort");
            (Guid, string, long)[] expected = [(one, "c1", 0L), (one, "c2", 0L), (two, "c1", 0L)];
            Assert.Equal(expected.Order(), marks.Order());
            // Position 0 is before every commit: commit positions start at 1.
            Assert.True(await connection.ExecuteScalarAsync<long>("SELECT nextval('commit_position_seq')") >= 1);
        }
    }
}
