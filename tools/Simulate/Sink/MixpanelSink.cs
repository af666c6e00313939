using System.Collections.Concurrent;
using System.Diagnostics;
using CohortSync.Domain.Targeting;
using CohortSync.Domain.Tracking;
using CohortSync.Host.Feed;

namespace CohortSync.Simulate.Sink;

/// <summary>The sink's Mixpanel side: its destination, the stand-in's port, the requests it received, the faults it
/// played, and whether the destination caught up with the feed.</summary>
public sealed record ImportSummary(
    string DestinationId, int Port, int Requests, IReadOnlyDictionary<string, long> Faults, bool CaughtUp, string DestinationState);

/// <summary>
/// The sink's Mixpanel side: a stand-in for <c>/import</c> on a given loopback port, where the service's US host must
/// point (the service takes Mixpanel's hosts from its configuration, never from a destination), and a mixpanel
/// destination of the project sending to it. At the sink's fault rate the stand-in answers 429 with Retry-After or
/// 503. What it keeps, deduplicated as Mixpanel does, is read back as changes through their <c>$insert_id</c>.
/// </summary>
public sealed class MixpanelSink : IAsyncDisposable
{
    public const string Name = "mixpanel";
    public const string Throttled = "429", Unavailable = "503";

    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    readonly SimulateOptions options;
    readonly int port;
    readonly ImportStandIn standIn;
    readonly DestinationApiClient api;
    readonly string destinationId;
    readonly ConcurrentDictionary<string, long> faults;
    ImportSummary? summary;

    MixpanelSink(SimulateOptions options, int port, ImportStandIn standIn, DestinationApiClient api, string destinationId, ConcurrentDictionary<string, long> faults)
    {
        this.options = options;
        this.port = port;
        this.standIn = standIn;
        this.api = api;
        this.destinationId = destinationId;
        this.faults = faults;
    }

    /// <summary>Where the service's US host must point for the stand-in to receive anything.</summary>
    public static string Configuration(int port) => $"Destinations__Mixpanel__Hosts__US=http://127.0.0.1:{port}";

    public static async Task<MixpanelSink> StartAsync(SimulateOptions options, int port, CancellationToken ct)
    {
        ImportStandIn standIn;
        try
        {
            standIn = await ImportStandIn.StartAsync(port);
        }
        catch (IOException e)
        {
            // Stopped before any sync, as a destination the service will not create is.
            throw new DestinationApiException($"the /import stand-in cannot listen on 127.0.0.1:{port}: {e.Message}");
        }
        var faults = new ConcurrentDictionary<string, long>();
        var dice = new Random(SimulationSeeds.For(options.Seed, 0, SimulationSeeds.Stream.Mixpanel));
        // The stand-in asks under its own lock, one request at a time.
        standIn.Faulty = () =>
        {
            if (dice.NextDouble() >= options.SinkFaultRate)
                return null;
            var throttled = dice.NextDouble() < 0.5;
            faults.AddOrUpdate(throttled ? Throttled : Unavailable, 1, (_, n) => n + 1);
            return throttled ? (429, TimeSpan.FromSeconds(1)) : (503, null);
        };
        var api = new DestinationApiClient(options.ReadApiBase, options.ReadApiAuthorization);
        try
        {
            var id = await api.CreateMixpanelAsync(options.Project, options.SinkBatchSize, "simulate", ct);
            return new MixpanelSink(options, port, standIn, api, id, faults);
        }
        catch
        {
            api.Dispose();
            await standIn.DisposeAsync();
            throw;
        }
    }

    /// <summary>The Mixpanel side as it ended; null before <see cref="HeldAsync"/>.</summary>
    public ImportSummary? Summary => summary;

    /// <summary>
    /// Waits until every change of the <paramref name="feed"/> is held, or the destination has no batch left to send
    /// past the feed's end (or stopped, or the sink's wait ran out); then what the stand-in keeps, as changes.
    /// </summary>
    public async Task<IReadOnlyList<ReceivedElsewhere>> HeldAsync(IReadOnlyList<ChangeKey> feed, CancellationToken ct)
    {
        var waiting = Stopwatch.StartNew();
        var due = feed.Select(c => ExpectedInsertId(destinationId, c.Position)).ToList();
        DeliveryProgress progress;
        bool caughtUp;
        while (true)
        {
            var held = standIn.Events.Select(e => e.InsertId).ToHashSet(StringComparer.Ordinal);
            progress = await api.ProgressAsync(destinationId, ct);
            caughtUp = due.All(id => id is not null && held.Contains(id))
                || progress.PendingBatches == 0 && (feed.Count == 0 || progress.FormedThrough == feed[^1].Position);
            if (caughtUp || progress.State != "active" || waiting.Elapsed > options.SinkWait)
                break;
            await Task.Delay(PollInterval, ct);
        }

        summary = new ImportSummary(destinationId, port, standIn.Requests.Count, new SortedDictionary<string, long>(faults), caughtUp, progress.State);
        return [Held(destinationId, feed, standIn.Events)];
    }

    /// <summary>
    /// The <paramref name="events"/> kept as the changes of the <paramref name="feed"/> whose <c>$insert_id</c> (for the
    /// destination <paramref name="destinationId"/>) they carry, with the cohort, user and kind the event itself names,
    /// so that an event for the wrong user does not pass for its change. An unknown <c>$insert_id</c> is a change the
    /// feed never held.
    /// </summary>
    public static ReceivedElsewhere Held(string destinationId, IReadOnlyList<ChangeKey> feed, IReadOnlyList<ImportedEvent> events)
    {
        var byInsertId = new Dictionary<string, ChangeKey>(StringComparer.Ordinal);
        foreach (var c in feed)
            if (ExpectedInsertId(destinationId, c.Position) is { } id)
                byInsertId[id] = c;
        var changes = events.Select(e =>
        {
            var cohort = e.Properties["cohort_id"]?.ToString() ?? "?";
            var kind = e.Properties["cohort_change"]?.ToString() ?? "?";
            return byInsertId.TryGetValue(e.InsertId, out var c)
                ? c with { CohortId = cohort, DistinctId = e.DistinctId, Kind = kind }
                : new ChangeKey($"unknown $insert_id {e.InsertId}", "?", cohort, e.DistinctId, kind);
        }).ToList();
        return new ReceivedElsewhere(Name, changes);
    }

    /// <summary>The <c>$insert_id</c> the service gives the event of the change at <paramref name="position"/>; null for a
    /// position that is not a feed cursor.</summary>
    static string? ExpectedInsertId(string destinationId, string position) =>
        FeedCursor.TryDecode(position, out var c) && Guid.TryParse(destinationId, out var id)
            ? InsertId.ForChange(id, new FeedPosition(c.CommitPosition, c.DistinctId))
            : null;

    /// <summary>Deletes the destination (it would otherwise go on calling a stand-in that is gone) and stops the stand-in.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await api.DeleteAsync(destinationId, CancellationToken.None);
        }
        catch (DestinationApiException)
        {
            // The run's verdict stands; a destination left behind retries against the closed port until deleted.
        }
        api.Dispose();
        await standIn.DisposeAsync();
    }
}
