using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Simulate;
using Npgsql;
using NpgsqlTypes;

namespace CohortSync.Simulate.Bench;

/// <summary>The raw binary COPY time of <see cref="Rows"/> members, the floor the webhook's end-to-end time is set against.</summary>
public sealed record CopyFigures(int Rows, double Seconds, double RowsPerSecond, double GenerateSeconds);

/// <summary>
/// The same members a load run of that size sends (<see cref="SimulatedUsers.Profile"/>), binary-COPYed by Npgsql
/// into a fresh, logged table keyed like the service's (<c>distinct_id COLLATE "C"</c> primary key). The rows are
/// built before the clock; it runs from the COPY's start to its completion (the commit included: COPY outside a
/// transaction commits itself); the table is dropped afterwards.
/// </summary>
public static class CopyBaseline
{
    public static async Task<CopyFigures> RunAsync(string connectionString, int size, CancellationToken ct = default)
    {
        var generating = Stopwatch.StartNew();
        var rows = new Member[size];
        for (var i = 0; i < size; i++)
            rows[i] = SimulatedUsers.Profile(i);
        var generateSeconds = generating.Elapsed.TotalSeconds;

        var table = $"copy_baseline_{Environment.ProcessId}_{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds():x}";
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await ExecuteAsync(connection, $"""
            CREATE TABLE {table} (
                distinct_id  text COLLATE "C" PRIMARY KEY,
                email        text,
                first_name   text,
                last_name    text,
                phone_number text,
                properties   jsonb NOT NULL)
            """, ct);
        try
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            var clock = Stopwatch.StartNew();
            ulong copied;
            // Synchronous writes: the floor is Npgsql's fastest path, not the per-value cost of the async one.
            await using (var copy = await connection.BeginBinaryImportAsync(
                             $"COPY {table} (distinct_id, email, first_name, last_name, phone_number, properties) FROM STDIN (FORMAT BINARY)", ct))
            {
                foreach (var m in rows)
                {
                    copy.StartRow();
                    copy.Write(m.DistinctId.Value, NpgsqlDbType.Text);
                    WriteText(copy, m.Email);
                    WriteText(copy, m.FirstName);
                    WriteText(copy, m.LastName);
                    WriteText(copy, m.PhoneNumber);
                    copy.Write(m.Properties, NpgsqlDbType.Jsonb);
                }
                copied = await copy.CompleteAsync(ct);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            if (copied != (ulong)size)
                throw new InvalidOperationException($"COPY reported {copied} rows, not {size}");
            return new CopyFigures(size, seconds, size / Math.Max(seconds, 1e-6), generateSeconds);
        }
        finally
        {
            await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {table}", CancellationToken.None);
        }
    }

    static void WriteText(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
            copy.WriteNull();
        else
            copy.Write(value, NpgsqlDbType.Text);
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
