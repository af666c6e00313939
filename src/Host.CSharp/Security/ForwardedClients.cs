using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// The client address behind reverse proxies: taken from <c>X-Forwarded-For</c> only when the request
/// comes from a proxy listed in <c>Security:KnownProxies</c> or <c>Security:KnownNetworks</c>.
/// </summary>
public static class ForwardedClients
{
    public static IServiceCollection AddForwardedClients(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<SecurityOptions>>((forwarded, security) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // The defaults trust loopback; only the proxies configured are trusted, along a chain of them.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            forwarded.ForwardLimit = null;
            foreach (var proxy in security.Value.KnownProxies)
                if (IPAddress.TryParse(proxy, out var address))
                    forwarded.KnownProxies.Add(address);
            foreach (var network in security.Value.KnownNetworks)
                if (System.Net.IPNetwork.TryParse(network, out var parsed))
                    forwarded.KnownIPNetworks.Add(parsed);
        });
        return services;
    }

    public static IApplicationBuilder UseForwardedClients(this IApplicationBuilder app)
    {
        // With no known proxy the middleware would believe every sender's header: it is not run at all.
        var security = app.ApplicationServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
        if (security.KnownProxies.Count > 0 || security.KnownNetworks.Count > 0)
            app.UseForwardedHeaders();
        return app;
    }
}
