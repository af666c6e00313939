using System.Security.Cryptography;
using System.Text;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Standard Webhooks signing: a secret is <c>whsec_</c> and the base64 of its key, and a signature is
/// <c>v1,</c> and the base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c> under that key.
/// </summary>
public static class SigningSecret
{
    public const string Prefix = "whsec_";
    const int KeyBytes = 32;

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>One signature. The body is hashed where it lies: a batch of a thousand changes is a third of a megabyte.</summary>
    public static string Sign(string secret, string webhookId, long timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Convert.FromBase64String(secret[Prefix.Length..]));
        hmac.AppendData(Encoding.UTF8.GetBytes($"{webhookId}.{timestamp}."));
        hmac.AppendData(body);
        return "v1," + Convert.ToBase64String(hmac.GetHashAndReset());
    }

    /// <summary>The <c>webhook-signature</c> header: one signature per secret that signs now, space-separated.</summary>
    public static string Header(IEnumerable<string> secrets, string webhookId, long timestamp, ReadOnlyMemory<byte> body) =>
        string.Join(' ', secrets.Select(s => Sign(s, webhookId, timestamp, body.Span)));
}
