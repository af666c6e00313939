namespace CohortSync.Host.Destinations;

/// <summary>Where a mixpanel destination sends its events (section <c>Destinations:Mixpanel</c>).</summary>
public sealed class MixpanelOptions
{
    const int MaxIntegrationIdLength = 255;

    /// <summary>
    /// The ingestion host of each region, to which <c>/import</c> is appended: Mixpanel's own by default, a local
    /// stand-in in tests and simulations. A path is kept (<c>http://127.0.0.1:5000/eu</c> sends to <c>/eu/import</c>).
    /// </summary>
    public Dictionary<string, string> Hosts { get; set; } = new()
    {
        [MixpanelRegion.US] = "https://api.mixpanel.com",
        [MixpanelRegion.EU] = "https://api-eu.mixpanel.com",
        [MixpanelRegion.IN] = "https://api-in.mixpanel.com",
    };

    /// <summary>
    /// Sent as <c>X-Mixpanel-Integration-ID</c> with every <c>/import</c> request: Mixpanel asks an integration
    /// calling its APIs to name itself so. Empty sends no such header.
    /// </summary>
    public string IntegrationId { get; set; } = "cohortsync";

    /// <summary>The <c>/import</c> URL of a region (without its query).</summary>
    public string ImportUrl(string region) => Hosts[region].TrimEnd('/') + "/import";

    internal IEnumerable<string> Problems()
    {
        foreach (var region in MixpanelRegion.All)
            if (!Hosts.TryGetValue(region, out var host) || !Uri.TryCreate(host, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                yield return $"Destinations:Mixpanel:Hosts:{region} must be an absolute http or https URL";
        foreach (var other in Hosts.Keys.Except(MixpanelRegion.All))
            yield return $"Destinations:Mixpanel:Hosts:{other} is not a region ({string.Join(", ", MixpanelRegion.All)})";
        if (IntegrationId.Length > MaxIntegrationIdLength || IntegrationId.Any(c => c is < '!' or > '~'))
            yield return $"Destinations:Mixpanel:IntegrationId must be at most {MaxIntegrationIdLength} printable ASCII characters without spaces (empty: not sent)";
    }
}

/// <summary>Mixpanel's data residency regions, as a mixpanel destination names them: US, EU and IN (India).</summary>
public static class MixpanelRegion
{
    public const string US = "US", EU = "EU", IN = "IN";
    public static readonly string[] All = [US, EU, IN];
}
