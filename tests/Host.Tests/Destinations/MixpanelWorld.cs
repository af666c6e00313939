using CohortSync.Host.Tests.Infrastructure;
using CohortSync.Simulate.Sink;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>
/// A host on a database of its own whose Mixpanel regions all point at one local <c>/import</c> stand-in
/// (<c>/us</c>, <c>/eu</c>, <c>/in</c>), so that no mixpanel destination of these tests can reach Mixpanel.
/// </summary>
sealed class MixpanelWorld : IAsyncDisposable
{
    public required ImportStandIn Mixpanel { get; init; }
    public required RunningHost Host { get; init; }
    public required string Database { get; init; }
    public HttpClient Client => Host.Client;

    public static Dictionary<string, string?> Settings(ImportStandIn standIn) => new()
    {
        ["Destinations:PollMilliseconds"] = "50",
        ["Destinations:Mixpanel:Hosts:US"] = standIn.Url + "/us",
        ["Destinations:Mixpanel:Hosts:EU"] = standIn.Url + "/eu",
        ["Destinations:Mixpanel:Hosts:IN"] = standIn.Url + "/in",
    };

    /// <summary>Starts the stand-in and the host; <paramref name="more"/> settings are added to the stand-in's.</summary>
    public static async Task<MixpanelWorld> StartAsync(HostFixture fx, IReadOnlyDictionary<string, string?>? more = null)
    {
        var standIn = await ImportStandIn.StartAsync();
        var database = await fx.CreateDatabaseAsync();
        var settings = Settings(standIn);
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
            settings[key] = value;
        return new MixpanelWorld { Mixpanel = standIn, Database = database, Host = await fx.StartHostAsync(settings, database) };
    }

    /// <summary>Creates a mixpanel destination; its id.</summary>
    public async Task<string> CreateAsync(string projectId, string mixpanel, string extra = "")
    {
        var reply = await Client.PostApiAsync("/v1/destinations",
            $$"""{"kind": "mixpanel", "projectId": "{{projectId}}", "mixpanel": {{mixpanel}}{{extra}}}""");
        Assert.True(reply.Status == System.Net.HttpStatusCode.Created, reply.ToString());
        return reply.Body.GetProperty("destination").Text("id");
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Mixpanel.DisposeAsync();
    }
}
