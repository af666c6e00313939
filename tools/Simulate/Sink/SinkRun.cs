using System.Diagnostics;

namespace CohortSync.Simulate.Sink;

/// <summary>What <c>simulate --sink</c> found: the sink's settings, the faults it played, the wait for delivery to
/// catch up, the destination's state at the end, the verification, and the Mixpanel side if one was played.</summary>
public sealed record DeliverySummary(
    string DestinationId, int BatchSize, double FaultRate, double SlowSeconds, IReadOnlyDictionary<string, long> Faults,
    double WaitSeconds, bool CaughtUp, string DestinationState, int OverlappingRequests, DeliveryVerification Verification,
    ImportSummary? Mixpanel = null);

/// <summary>
/// simulate's other side: a sink destination for the project, created before the first sync (a destination is
/// sent what is committed after it exists), then, once the syncs are over, a wait until every change of the feed
/// since then was delivered, the verification, and the destination deleted again.
/// </summary>
public sealed class SinkRun : IAsyncDisposable
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    readonly SimulateOptions options;
    readonly DestinationServer server;
    readonly SinkFaults faults;
    readonly DestinationApiClient api;
    readonly SinkDestination destination;

    SinkRun(SimulateOptions options, DestinationServer server, SinkFaults faults, DestinationApiClient api, SinkDestination destination)
    {
        this.options = options;
        this.server = server;
        this.faults = faults;
        this.api = api;
        this.destination = destination;
    }

    public static async Task<SinkRun> StartAsync(SimulateOptions options, CancellationToken ct)
    {
        var faults = new SinkFaults(options.SinkFaultRate, options.SinkSlow, SimulationSeeds.For(options.Seed, 0, SimulationSeeds.Stream.Sink));
        var server = await DestinationServer.StartAsync();
        server.Respond = faults.Respond;
        var api = new DestinationApiClient(options.ReadApiBase, options.ReadApiAuthorization);
        try
        {
            var destination = await api.CreateAsync(server.Url, options.Project, options.SinkBatchSize, ct);
            server.Secrets = [destination.Secret];
            return new SinkRun(options, server, faults, api, destination);
        }
        catch
        {
            api.Dispose();
            await server.DisposeAsync();
            throw;
        }
    }

    public string Url => server.Url;

    /// <summary>
    /// <paramref name="elsewhere"/> reads, once this destination caught up, what other destinations hold of the feed
    /// it is given (the changes this one was due).
    /// </summary>
    public async Task<DeliverySummary> VerifyAsync(
        Func<IReadOnlyList<ChangeKey>, CancellationToken, Task<IReadOnlyList<ReceivedElsewhere>>>? elsewhere, CancellationToken ct)
    {
        var waiting = Stopwatch.StartNew();
        var feed = new List<ChangeKey>();
        var cursor = destination.StartCursor;
        DeliveryProgress progress;
        bool caughtUp;
        while (true)
        {
            var (more, next) = await api.FeedAsync(options.Project, cursor, ct);
            feed.AddRange(more);
            cursor = next;
            progress = await api.ProgressAsync(destination.Id, ct);
            var delivered = server.DistinctChanges().Select(c => c.GetProperty("position").GetString()).ToHashSet(StringComparer.Ordinal);
            caughtUp = progress.PendingBatches == 0 && feed.All(c => delivered.Contains(c.Position));
            // A destination that is failing or gone gets nothing more until an operator enables it.
            if (caughtUp || progress.State != "active" || waiting.Elapsed > options.SinkWait)
                break;
            await Task.Delay(PollInterval, ct);
        }

        // This destination's wait only: what the others hold is waited for on their own clocks.
        var waited = waiting.Elapsed.TotalSeconds;
        var others = elsewhere is null ? [] : await elsewhere(feed, ct);
        var verification = DeliveryVerification.Check(feed, server.Hooks, server.Secrets, server.Refused, others);
        return new DeliverySummary(
            destination.Id, options.SinkBatchSize, faults.Rate, options.SinkSlow.TotalSeconds, faults.Counts,
            waited, caughtUp, progress.State, server.OverlappingDeliveries, verification);
    }

    /// <summary>Deletes the destination (it would otherwise go on calling a sink that is gone) and stops the sink.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await api.DeleteAsync(destination.Id, CancellationToken.None);
        }
        catch (DestinationApiException)
        {
            // The run's verdict stands; a destination left behind fails its schedule against the closed sink and is marked failing.
        }
        api.Dispose();
        await server.DisposeAsync();
    }
}
