using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CohortSync.Host.Security;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Api;

/// <summary>
/// Bearer keys of the read API (<c>Api:Keys</c>), apart from Mixpanel's Basic credentials. Every key
/// is compared, in constant time on fixed-length hashes, so timing tells nothing about how close a
/// guess came or which key matched.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    sealed record Entry(byte[] Key, ProjectScope Scope);

    readonly Entry[] entries;

    public ApiKeyAuthenticator(IOptions<ApiOptions> options) =>
        entries = options.Value.Keys.Select(k => new Entry(Hash(k.Key), ProjectScope.For(k.Projects))).ToArray();

    /// <summary>True when no key is configured: /v1 then answers loopback clients only.</summary>
    public bool IsOpen => entries.Length == 0;

    /// <summary>The key's scope, or null when the header is missing or names no configured key.</summary>
    public ProjectScope? Authenticate(string? authorization)
    {
        if (!AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
            || string.IsNullOrEmpty(header.Parameter))
            return null;

        var key = Hash(header.Parameter);
        ProjectScope? match = null;
        foreach (var entry in entries)
            if (CryptographicOperations.FixedTimeEquals(entry.Key, key) && match is null)
                match = entry.Scope;
        return match;
    }

    static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
