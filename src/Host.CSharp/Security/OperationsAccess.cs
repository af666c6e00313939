using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// Guards the endpoints marked <see cref="OperationsEndpoint"/>: on another port than
/// <see cref="OperationsOptions.Url"/>'s they do not exist (404), and with keys configured a request
/// without one of them gets 401 (and counts as a failed authentication). The port checked is the one
/// the connection arrived on, never the Host header, which any client writes.
/// </summary>
public sealed class OperationsAccess(RequestDelegate next, IOptions<OperationsOptions> options, FailedAuthentications failures)
{
    readonly int? port = options.Value.Port;
    readonly byte[][] keys = options.Value.Keys.Select(Digest).ToArray();

    public Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<OperationsEndpoint>() is null)
            return next(http);
        if (port is { } only && http.Connection.LocalPort != only)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        if (keys.Length > 0 && !HasKey(http.Request.Headers.Authorization))
        {
            failures.Record(http, AccessRefusal.OperationsKey);
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"CohortSync operations\"";
            return Task.CompletedTask;
        }
        return next(http);
    }

    bool HasKey(string? authorization)
    {
        if (!AuthenticationHeaderValue.TryParse(authorization, out var header)
            || !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
            || string.IsNullOrEmpty(header.Parameter))
            return false;
        var given = Digest(header.Parameter);
        var found = false;
        foreach (var key in keys)
            found |= CryptographicOperations.FixedTimeEquals(key, given);
        return found;
    }

    static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}

/// <summary>Endpoint metadata: an operational endpoint (<c>/metrics</c>, the OpenAPI document).</summary>
public sealed record OperationsEndpoint;
