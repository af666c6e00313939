using System.Security.Cryptography;
using System.Text;

namespace CohortSync.Simulate.Sink;

/// <summary>
/// Standard Webhooks' check, as a destination makes it, written here independently of the service: one of the
/// space-separated <c>v1,</c> signatures is the base64 HMAC-SHA256 of <c>id.timestamp.body</c>, keyed with the
/// base64-decoded part of a <c>whsec_</c> secret, compared in constant time.
/// </summary>
public static class WebhookSignature
{
    const string SecretPrefix = "whsec_";

    /// <summary>A destination refuses timestamps further than this from its own clock (a replayed request).</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static bool Verifies(string secret, string webhookId, long timestamp, string body, IReadOnlyList<string> signatures) =>
        Verifies(secret, webhookId, timestamp, Encoding.UTF8.GetBytes(body), signatures);

    public static bool Verifies(string secret, string webhookId, long timestamp, ReadOnlySpan<byte> body, IReadOnlyList<string> signatures)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
            throw new ArgumentException($"a signing secret starts with {SecretPrefix}", nameof(secret));
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Convert.FromBase64String(secret[SecretPrefix.Length..]));
        hmac.AppendData(Encoding.UTF8.GetBytes($"{webhookId}.{timestamp}."));
        hmac.AppendData(body);
        var mac = hmac.GetHashAndReset();
        var expected = Encoding.ASCII.GetBytes("v1," + Convert.ToBase64String(mac));
        return signatures.Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
    }

    /// <summary>Whether a request's timestamp is within <see cref="Tolerance"/> of when it arrived.</summary>
    public static bool Fresh(long timestamp, DateTime arrivedUtc) =>
        Math.Abs(DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(timestamp, 0, 253402300799)).UtcDateTime.Subtract(arrivedUtc).TotalSeconds)
        <= Tolerance.TotalSeconds;
}
