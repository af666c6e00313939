using System.Net;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Security;

/// <summary>
/// X-Forwarded-For names the client only when the request comes from a proxy listed in
/// Security:KnownProxies or Security:KnownNetworks; from anyone else it is ignored.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ForwardedHeadersTests(HostFixture fx)
{
    const string Proxy = "127.0.0.5";

    static async Task<HttpStatusCode> GetAsync(HttpClient client, string url, string? forwardedFor, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (key is not null)
            request.Headers.Authorization = new("Bearer", key);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_spoofed_X_Forwarded_For_from_an_unknown_address_is_ignored()
    {
        await using var host = await SecuredHosts.StartAsync(fx, ("Security:FailedAuthLimit", "3"), ("Security:KnownProxies:0", Proxy));
        using var stranger = LoopbackClient.From("127.0.0.2", host.BaseAddress);

        // Each guess claims another client; all count against the sender's own address.
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(stranger, "/v1/cohorts", $"203.0.113.{i}", "wrong"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(stranger, "/v1/cohorts", "203.0.113.99", SecuredHosts.ApiKey));

        // The same headers from the known proxy name real clients: those it forwards for are not locked out.
        using var proxy = LoopbackClient.From(Proxy, host.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(proxy, "/v1/cohorts", "203.0.113.99", SecuredHosts.ApiKey));
    }

    [Fact]
    public async Task Behind_a_known_proxy_each_forwarded_client_has_its_own_failure_count()
    {
        await using var host = await SecuredHosts.StartAsync(fx, ("Security:FailedAuthLimit", "3"), ("Security:KnownNetworks:0", "127.0.0.4/31"));
        using var proxy = LoopbackClient.From(Proxy, host.BaseAddress);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(proxy, "/v1/cohorts", "198.51.100.7", "wrong"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync(proxy, "/v1/cohorts", "198.51.100.7", SecuredHosts.ApiKey));
        // Another client of the same proxy, and the proxy itself, are still served.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(proxy, "/v1/cohorts", "198.51.100.8", SecuredHosts.ApiKey));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(proxy, "/v1/cohorts", null, SecuredHosts.ApiKey));
    }

    [Fact]
    public async Task Without_keys_a_known_proxy_forwarding_for_another_machine_gets_403_and_a_spoof_stays_local()
    {
        // The read API without keys answers clients on this machine: behind a known proxy that means the
        // client it names, not the proxy.
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Security:KnownProxies:0"] = Proxy });
        using var proxy = LoopbackClient.From(Proxy, host.BaseAddress);
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(proxy, "/v1/cohorts", "198.51.100.7"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(proxy, "/v1/cohorts", "127.0.0.9"));

        // From an unknown sender the header changes nothing: the sender is on this machine.
        using var local = LoopbackClient.From("127.0.0.2", host.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(local, "/v1/cohorts?limit=1", "198.51.100.7"));
    }
}
