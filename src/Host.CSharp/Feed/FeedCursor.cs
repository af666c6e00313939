using System.Text.Json;
using CohortSync.Host.Api;

namespace CohortSync.Host.Feed;

/// <summary>
/// A place in the change feed: just after the transition of <see cref="DistinctId"/> in the commit at
/// <see cref="CommitPosition"/> (see <c>Webhook/ReadSideCommit.cs</c>). The feed's start is (0, "").
/// Sent to clients opaque: a JSON array, base64url-encoded.
/// </summary>
public readonly record struct FeedCursor(long CommitPosition, string DistinctId)
{
    public static readonly FeedCursor Start = new(0, "");

    /// <summary>Just after every transition of the commit at <paramref name="position"/> (and before any of the next: ids are never empty).</summary>
    public static FeedCursor PastCommit(long position) => new(position + 1, "");

    public string Encode() => Cursor.Encode(JsonSerializer.Serialize(new object[] { CommitPosition, DistinctId }));

    public static bool TryDecode(string text, out FeedCursor cursor)
    {
        cursor = Start;
        if (!Cursor.TryDecode(text, out string? json))
            return false;
        try
        {
            using var doc = JsonDocument.Parse(json!);
            if (doc.RootElement is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() != 2
                || !array[0].TryGetInt64(out var position) || position < 0
                || array[1].ValueKind != JsonValueKind.String || array[1].GetString() is not { } distinctId
                || !Cursor.IsStorable(distinctId))
                return false;
            cursor = new FeedCursor(position, distinctId);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
