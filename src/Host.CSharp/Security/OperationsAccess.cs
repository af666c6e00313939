using System.ComponentModel.DataAnnotations;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// Where <c>/metrics</c> and the OpenAPI document are served (section <c>Operations</c>). Neither set,
/// they answer anyone who reaches the service, as they hold no member data.
/// </summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>
    /// A URL of their own (<c>http://0.0.0.0:9090</c>), listened on besides the service's URLs; they are
    /// then served on that port only.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>Bearer keys, one of which they then require (Prometheus: <c>authorization: credentials</c>).</summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>The port of <see cref="Url"/>, or null when none is set.</summary>
    public int? Port => string.IsNullOrWhiteSpace(Url) ? null : BindingAddress.Parse(Url).Port;
}

/// <summary>A URL must name its port, and a key must not be empty (a misspelt setting).</summary>
public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        var problems = options.Keys
            .Select((k, i) => (k, i))
            .Where(x => string.IsNullOrWhiteSpace(x.k))
            .Select(x => $"Operations:Keys:{x.i} is empty")
            .ToList();
        if (!string.IsNullOrWhiteSpace(options.Url))
        {
            int? port;
            try
            {
                port = options.Port;
            }
            catch (FormatException)
            {
                port = null;
            }
            if (port is null or <= 0)
                problems.Add($"Operations:Url ({options.Url}) must be a URL with a fixed port, such as http://0.0.0.0:9090");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

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
