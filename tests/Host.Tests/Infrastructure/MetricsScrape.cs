using System.Globalization;
using System.Net;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>One scrape of /metrics: each sample by its series, <c>name{label="value",...}</c> as exposed.</summary>
public sealed class MetricsScrape(IReadOnlyDictionary<string, double> samples)
{
    public static async Task<MetricsScrape> TakeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics: {(int)response.StatusCode} {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
                continue;
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return new MetricsScrape(samples);
    }

    /// <summary>Scrapes until <paramref name="until"/> holds or a few seconds pass (a request is timed after its reply is sent).</summary>
    public static async Task<MetricsScrape> TakeWhenAsync(HttpClient client, Func<MetricsScrape, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var scrape = await TakeAsync(client);
            if (until(scrape) || DateTime.UtcNow > deadline)
                return scrape;
            await Task.Delay(20);
        }
    }

    public static string Series(string name, params (string Label, string Value)[] labels) =>
        labels.Length == 0 ? name : $"{name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}";

    /// <summary>The sample's value; 0 for a series not exposed yet.</summary>
    public double this[string series] => samples.TryGetValue(series, out var value) ? value : 0;

    public bool Has(string series) => samples.ContainsKey(series);

    public IEnumerable<string> SeriesNames => samples.Keys;
}
