using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CohortSync.Host.Security;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Basic authentication against the configured credentials. Every credential is compared, in
/// constant time on fixed-length hashes, so timing tells nothing about which part was wrong. Two
/// credentials may share a user name (a password being rotated): either password is accepted.
/// </summary>
public sealed class WebhookAuthenticator
{
    sealed record Entry(byte[] Username, byte[] Password, ProjectScope Caller);

    readonly Entry[] entries;

    public WebhookAuthenticator(IOptions<WebhookOptions> options) =>
        entries = options.Value.Credentials
            .Select(c => new Entry(Hash(c.Username), Hash(c.Password), ProjectScope.For(c.Projects)))
            .ToArray();

    /// <summary>True when no credential is configured: every request is accepted.</summary>
    public bool IsOpen => entries.Length == 0;

    /// <summary>The projects the caller may sync, or null when the header is missing or matches no credential.</summary>
    public ProjectScope? Authenticate(string? authorization)
    {
        if (IsOpen)
            return ProjectScope.EveryProject;
        if (!AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
            return null;

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon < 0)
            return null;

        var username = Hash(decoded[..colon]);
        var password = Hash(decoded[(colon + 1)..]);
        ProjectScope? match = null;
        foreach (var entry in entries)
        {
            var ok = CryptographicOperations.FixedTimeEquals(entry.Username, username)
                   & CryptographicOperations.FixedTimeEquals(entry.Password, password);
            if (ok && match is null)
                match = entry.Caller;
        }
        return match;
    }

    static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
