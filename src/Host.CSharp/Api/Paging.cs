using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.Api;

/// <summary>The JSON body of every refusal and every 404 of the read API.</summary>
public sealed record ProblemBody(string Error);

/// <summary>Keyset pages: the bounded <c>limit</c>, and the refusals shared by every list.</summary>
static class Paging
{
    /// <summary>
    /// The page size asked for (<c>Api:DefaultPageSize</c> when left out or empty), or a 400 when it is not a
    /// whole number from 1 to <c>Api:MaxPageSize</c>. Bound as text and parsed here: a malformed limit bound
    /// as a number would be refused by the framework before any handler runs, without the problem body.
    /// </summary>
    public static BadRequest<ProblemBody>? CheckLimit(string? limit, ApiOptions api, out int take)
    {
        take = api.DefaultPageSize;
        if (string.IsNullOrEmpty(limit))
            return null;
        return int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) && take >= 1 && take <= api.MaxPageSize
            ? null
            : TypedResults.BadRequest(new ProblemBody($"limit must be a whole number between 1 and {api.MaxPageSize}"));
    }

    public static BadRequest<ProblemBody> BadCursor(string parameter = "after") =>
        TypedResults.BadRequest(new ProblemBody($"{parameter} is not a cursor this service issued"));
}

/// <summary>
/// Opaque keyset cursors, base64url-encoded: a single text key as its UTF-8 (the members list), a
/// numeric key as its digits, and keys of several parts as a JSON array. Clients only hand them back.
/// A text key never holds NUL (PostgreSQL text cannot), so a cursor whose key does was not issued here.
/// </summary>
static class Cursor
{
    public static string Encode(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    public static bool TryDecode(string cursor, out string? key)
    {
        key = null;
        try
        {
            key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return key.Length > 0 && IsStorable(key);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static string Encode(long key) => Encode(key.ToString(CultureInfo.InvariantCulture));

    /// <summary>A positive numeric key.</summary>
    public static bool TryDecode(string cursor, out long key)
    {
        key = 0;
        return TryDecode(cursor, out string? text)
               && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out key)
               && key > 0;
    }

    public static string Encode(string first, string second) => Encode(JsonSerializer.Serialize(new[] { first, second }));

    /// <summary>Two text keys, as <see cref="Encode(string, string)"/> wrote them.</summary>
    public static bool TryDecode(string cursor, out string first, out string second)
    {
        first = second = "";
        if (!TryDecode(cursor, out string? json))
            return false;
        try
        {
            if (JsonSerializer.Deserialize<string[]>(json!) is not [{ } a, { } b] || !IsStorable(a) || !IsStorable(b))
                return false;
            (first, second) = (a, b);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>False for text PostgreSQL cannot hold (it has a NUL): no id or key of this service does.</summary>
    public static bool IsStorable(string text) => !text.Contains('\0');
}
