using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>Failed authentication and reverse proxies (section <c>Security</c>).</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Failed authentications one client address may make in a window before all its requests get 429.</summary>
    [Range(1, int.MaxValue)]
    public int FailedAuthLimit { get; set; } = 20;

    /// <summary>The length of that window, in seconds.</summary>
    [Range(1, 86_400)]
    public int FailedAuthWindowSeconds { get; set; } = 60;

    /// <summary>Addresses of reverse proxies whose <c>X-Forwarded-For</c> names the client. No other is believed.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, <c>10.0.0.0/8</c>) of such proxies.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>Refuses a proxy address or network that does not parse: a typo would silently trust no proxy.</summary>
public sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var problems = options.KnownProxies
            .Select((p, i) => (p, i))
            .Where(x => !IPAddress.TryParse(x.p, out _))
            .Select(x => $"Security:KnownProxies:{x.i} ({x.p}) is not an IP address")
            .Concat(options.KnownNetworks
                .Select((n, i) => (n, i))
                .Where(x => !IPNetwork.TryParse(x.n, out _))
                .Select(x => $"Security:KnownNetworks:{x.i} ({x.n}) is not a network such as 10.0.0.0/8"))
            .ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
