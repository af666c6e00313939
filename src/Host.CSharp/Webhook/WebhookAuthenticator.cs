using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CohortSync.Host.Configuration;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Webhook;

/// <summary>Who a request comes from: the projects its credential may sync.</summary>
public sealed class WebhookCaller
{
    readonly HashSet<string>? projects;

    WebhookCaller(HashSet<string>? projects) => this.projects = projects;

    public static readonly WebhookCaller Anyone = new(null);

    /// <summary>
    /// Empty, or containing <c>*</c>, means every project. Blank entries are refused at start-up
    /// (<see cref="WebhookCredentialsValidator"/>), not dropped here.
    /// </summary>
    public static WebhookCaller For(IEnumerable<string> projects)
    {
        var set = projects.ToHashSet(StringComparer.Ordinal);
        return set.Count == 0 || set.Contains("*") ? Anyone : new WebhookCaller(set);
    }

    public bool MaySync(string projectId) => projects is null || projects.Contains(projectId);
}

/// <summary>
/// Basic authentication against the configured credentials. Every credential is compared, in
/// constant time on fixed-length hashes, so timing tells nothing about which part was wrong.
/// </summary>
public sealed class WebhookAuthenticator
{
    sealed record Entry(byte[] Username, byte[] Password, WebhookCaller Caller);

    readonly Entry[] entries;

    public WebhookAuthenticator(IOptions<WebhookOptions> options) =>
        entries = options.Value.Credentials
            .Select(c => new Entry(Hash(c.Username), Hash(c.Password), WebhookCaller.For(c.Projects)))
            .ToArray();

    /// <summary>True when no credential is configured: every request is accepted.</summary>
    public bool IsOpen => entries.Length == 0;

    /// <summary>The caller, or null when the header is missing or matches no credential.</summary>
    public WebhookCaller? Authenticate(string? authorization)
    {
        if (IsOpen)
            return WebhookCaller.Anyone;
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
        WebhookCaller? match = null;
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
