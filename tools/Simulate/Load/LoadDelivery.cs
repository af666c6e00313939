using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Mixpanel;
using CohortSync.Simulate.Sink;

namespace CohortSync.Simulate.Load;

/// <summary>
/// Delivery timed (<c>simulate --load --sink</c>): from a sync's commit becoming visible until the sink holds its
/// changes. <c>CommitToLastDeliveredSeconds</c> runs to the batch that completed them; <c>CommitToDelivered</c> is
/// each change's own time (that of the batch carrying it), as percentiles. <c>Held</c> is what had arrived when the
/// wait ended: below <c>Changes</c>, delivery did not catch up within <c>--sink-wait</c>.
/// </summary>
public sealed record SyncDelivery(
    long Changes, long Held, int Batches, double? CommitToLastDeliveredSeconds, double? ChangesPerSecond, LatencyMs? CommitToDelivered);

/// <summary>The delivery figures of a load run: the full sync's, the diff's, and page acknowledgements sent meanwhile
/// (<c>AckWhileDelivering</c>, over <c>AckSamples</c> pages of a cohort in project <c>ProbeProject</c>, which the
/// destination is not sent).</summary>
public sealed record DeliveryFigures(
    string DestinationId, int BatchSize, SyncDelivery? Full, SyncDelivery? Diff, string ProbeProject, int AckSamples,
    LatencyMs? AckWhileDelivering, int Requests);

/// <summary>
/// The load run's sink: a destination for the project, created before the first sync, that answers 200 at once and
/// counts changes without keeping them. While the full sync's changes are delivered, pages of a probe cohort of
/// another project are sent, one at a time, to time page acknowledgements while deliveries run.
/// </summary>
public sealed class LoadDelivery : IAsyncDisposable
{
    /// <summary>Mixpanel sends a sync's pages one after another; a page every 100 ms keeps the probe's own staging small.</summary>
    static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    readonly SimulateOptions options;
    readonly DestinationServer server;
    readonly DestinationApiClient api;
    readonly SinkDestination destination;
    readonly List<double> probeLatencies = [];
    long awaited;

    LoadDelivery(SimulateOptions options, DestinationServer server, DestinationApiClient api, SinkDestination destination)
    {
        this.options = options;
        this.server = server;
        this.api = api;
        this.destination = destination;
    }

    public static async Task<LoadDelivery> StartAsync(SimulateOptions options, CancellationToken ct)
    {
        var server = await DestinationServer.StartAsync(keepBodies: false);
        var api = new DestinationApiClient(options.ReadApiBase, options.ReadApiAuthorization);
        try
        {
            return new LoadDelivery(options, server, api, await api.CreateAsync(server.Url, options.Project, options.SinkBatchSize, ct));
        }
        catch (DestinationApiException e)
        {
            api.Dispose();
            await server.DisposeAsync();
            throw new LoadAbortedException($"the sink's destination: {e.Message}");
        }
    }

    string ProbeProject => $"{options.Project}-probe";

    /// <summary>Waits until the sink holds <paramref name="changes"/> more changes than before, committed at
    /// <paramref name="committedAt"/>; with <paramref name="probe"/>, syncs the probe cohort meanwhile.</summary>
    public async Task<SyncDelivery> AwaitAsync(long changes, long committedAt, bool probe, LoadClient client, TextWriter progress, CancellationToken ct)
    {
        var before = awaited;
        awaited += changes;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var probing = probe ? ProbeAsync(client, done.Token) : Task.CompletedTask;
        var deadline = Stopwatch.GetTimestamp() + (long)(options.SinkWait.TotalSeconds * Stopwatch.Frequency);
        while (server.Arrivals.Changes < awaited && Stopwatch.GetTimestamp() < deadline)
            await Task.Delay(PollInterval, ct);
        await done.CancelAsync();
        await probing;

        // Batches arrive in feed order: this sync's are those after the ones already counted.
        var batches = new List<BatchArrival>();
        var counted = 0L;
        foreach (var arrival in server.Arrivals.All)
        {
            if (counted >= before && counted < awaited)
                batches.Add(arrival);
            counted += arrival.Changes;
        }
        var held = batches.Sum(b => (long)b.Changes);
        await progress.WriteLineAsync($"simulate --load: the sink holds {held:N0} of {changes:N0} changes in {batches.Count:N0} batches");
        if (held < changes || batches.Count == 0)
            return new SyncDelivery(changes, held, batches.Count, null, null, null);

        double Since(long at) => Math.Max(0, Stopwatch.GetElapsedTime(committedAt, at).TotalSeconds);
        var last = Since(batches[^1].ArrivedAt);
        var perChange = batches.Select(b => (Ms: Since(b.ArrivedAt) * 1000, b.Changes)).ToList();
        return new SyncDelivery(changes, held, batches.Count, last, changes / Math.Max(last, 1e-6), Percentiles.Weighted(perChange));
    }

    /// <summary>
    /// Pages of one large full sync of a cohort of another project, one every <see cref="ProbeInterval"/> (or back to
    /// back when slower), each rendered before its clock starts, until told to stop. The sync is never finished: its
    /// pages are staged and acknowledged as any other, and no commit of its own competes with what is measured.
    /// </summary>
    async Task ProbeAsync(LoadClient client, CancellationToken stop)
    {
        var project = ProjectId.Of(ProbeProject);
        var cohort = CohortId.Of($"probe-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds():x}");
        var session = SessionId.Of($"{cohort.Value}-1");
        for (var page = 1; page < PageInfo.MaxTotalPages && !stop.IsCancellationRequested; page++)
        {
            var members = new Member[options.PageSize];
            for (var j = 0; j < members.Length; j++)
                members[j] = SimulatedUsers.Profile((long)(page - 1) * options.PageSize + j);
            var body = PageBody.Render(new WebhookPage(
                WebhookAction.Members, project, cohort, "Probe", "", session, new PageInfo(PageInfo.MaxTotalPages, page), members));
            var due = Stopwatch.GetTimestamp() + (long)(ProbeInterval.TotalSeconds * Stopwatch.Frequency);
            var sent = Stopwatch.GetTimestamp();
            await client.PostPageAsync(body, $"probe page {page}", CancellationToken.None);
            lock (probeLatencies)
                probeLatencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    public DeliveryFigures Figures(SyncDelivery? full, SyncDelivery? diff)
    {
        lock (probeLatencies)
            return new DeliveryFigures(
                destination.Id, options.SinkBatchSize, full, diff, ProbeProject, probeLatencies.Count,
                probeLatencies.Count == 0 ? null : Percentiles.Weighted([.. probeLatencies.Select(ms => (ms, 1))]), server.Requests);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await api.DeleteAsync(destination.Id, CancellationToken.None);
        }
        catch (DestinationApiException)
        {
            // The figures stand; a destination left behind fails its schedule against the closed sink and is marked failing.
        }
        api.Dispose();
        await server.DisposeAsync();
    }
}

/// <summary>Nearest-rank percentiles of values each standing for a number of observations.</summary>
static class Percentiles
{
    public static LatencyMs Weighted(IReadOnlyList<(double Value, int Count)> values)
    {
        var sorted = values.Where(v => v.Count > 0).OrderBy(v => v.Value).ToList();
        var total = sorted.Sum(v => (long)v.Count);
        double At(double percent)
        {
            var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * total));
            var seen = 0L;
            foreach (var (value, count) in sorted)
                if ((seen += count) >= rank)
                    return value;
            return sorted[^1].Value;
        }
        return new LatencyMs(At(50), At(95), At(99), sorted[^1].Value);
    }
}
