using System.Net;
using System.Net.Sockets;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Security;

/// <summary>/metrics and the OpenAPI document on a port of their own, or behind keys; health stays open.</summary>
[Collection(HostCollection.Name)]
public sealed class OperationsEndpointTests(HostFixture fx)
{
    static readonly string[] Operational = ["/metrics", "/openapi/v1.json"];

    static async Task<HttpStatusCode> GetAsync(HttpClient client, string url, string? key = null, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
            request.Headers.Authorization = new("Bearer", key);
        if (host is not null)
            request.Headers.Host = host;
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task With_keys_they_need_one_and_health_does_not()
    {
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Operations:Keys:0"] = "scrape-old",
            ["Operations:Keys:1"] = "scrape-new",
        });
        foreach (var url in Operational)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(host.Client, url));
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(host.Client, url, "scrape"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(host.Client, url, "scrape-old"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(host.Client, url, "scrape-new"));
        }
        Assert.Equal(HttpStatusCode.OK, await GetAsync(host.Client, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(host.Client, "/readyz"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new("Bearer", "scrape-new") } };
        var text = await (await host.Client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains("cohortsync_access_refusals_total{reason=\"operations_key\"} 4", text);
    }

    [Fact]
    public async Task On_a_port_of_their_own_they_are_not_served_on_the_service_port()
    {
        var port = FreePort();
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Operations:Url"] = $"http://127.0.0.1:{port}" });
        using var operations = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var url in Operational)
        {
            Assert.Equal(HttpStatusCode.NotFound, await GetAsync(host.Client, url));
            // The Host header is the client's to write: it does not open the door.
            Assert.Equal(HttpStatusCode.NotFound, await GetAsync(host.Client, url, host: $"127.0.0.1:{port}"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(operations, url));
        }
        // The service itself still answers on its own port.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(host.Client, "/readyz"));
        await host.Client.PostOkAsync(TestCohort.New("ops-port").Members("s1", 1, 1, "a"));
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
