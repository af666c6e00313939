using CohortSync.Domain;
using Npgsql;
using NpgsqlTypes;

namespace CohortSync.Host.Webhook;

/// <summary>
/// A page's members staged as one row of parallel arrays (db/0005_bulk_storage.sql): one statement and
/// one row per page, whatever its size, where a row per member cost PostgreSQL a thousand inserts and
/// index entries per page, and as many deletes at commit.
/// </summary>
static class StagedPage
{
    const string Insert = """
        INSERT INTO staged_page (upload_id, distinct_ids, emails, first_names, last_names, phone_numbers, properties)
        VALUES (nextval('upload_id_seq'), $1, $2, $3, $4, $5, $6)
        RETURNING upload_id
        """;

    /// <summary>The staged pages of <c>@session</c>, deleted in the transaction that finishes it (its commit or its
    /// supersession), so that no finished session holds staged members.</summary>
    public const string DeleteOfSession = """

        DELETE FROM staged_page WHERE upload_id IN (SELECT upload_id FROM session_page WHERE session_key = @session);
        """;

    /// <returns>The upload id under which the page's record will name these members.</returns>
    public static async Task<long> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Member[] members, CancellationToken ct)
    {
        var ids = new string[members.Length];
        var emails = new string?[members.Length];
        var firstNames = new string?[members.Length];
        var lastNames = new string?[members.Length];
        var phoneNumbers = new string?[members.Length];
        var properties = new string[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            var m = members[i];
            ids[i] = m.DistinctId.Value;
            emails[i] = m.Email;
            firstNames[i] = m.FirstName;
            lastNames[i] = m.LastName;
            phoneNumbers[i] = m.PhoneNumber;
            properties[i] = m.Properties;
        }

        await using var command = new NpgsqlCommand(Insert, connection, tx)
        {
            Parameters =
            {
                Text(ids), Text(emails), Text(firstNames), Text(lastNames), Text(phoneNumbers),
                new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb, TypedValue = properties },
            },
        };
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    static NpgsqlParameter<string?[]> Text(string?[] values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = values };
}
