using System.Diagnostics;
using CohortSync.Domain;

namespace CohortSync.Simulate.Load;

/// <summary>
/// <c>simulate --load</c>: times one cohort's first full sync and a diff after it, fault-free, against a running
/// service, then checks what the service holds. Every body is rendered before the clock starts; afterwards the
/// run allocates per page and per call, never per member, so that it measures the service rather than itself.
/// </summary>
public static class LoadRun
{
    public const int DefaultSize = 1_000_000;

    /// <summary>A call's timeout: the commit runs inside the last page's request, and a slow one must be measured, not cut.</summary>
    public const double DefaultTimeoutSeconds = 300;

    /// <summary>Exit code of a run that stopped: a page answered other than 2xx, a call unanswered, or a commit never
    /// shown. (0 is a run that ended and verified; 1, <see cref="ExitCodes.Diverged"/>, a cohort that differs.)</summary>
    public const int Aborted = 6;

    /// <summary>Users looked up one by one in each group (kept, left, entered, never sent).</summary>
    const int SamplePerGroup = 50;

    public static async Task<int> RunAsync(SimulateOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        // A run of its own: a new cohort, so the full sync meets no earlier state.
        var nonce = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString("x");
        var project = ProjectId.Of(options.Project);
        var cohort = CohortId.Of($"load-{nonce}");
        var plan = new LoadPlan(options.Size, options.Diff, options.PageSize);
        var summary = new LoadSummary(new LoadSettings(
            options.WebhookUrl.ToString(), options.ReadApiBase.ToString(), options.Credentials?.Username, project.Value, cohort.Value,
            options.Size, options.PageSize, options.InFlight, options.Diff, plan.Entering, plan.Leaving, options.CallTimeout.TotalSeconds));
        using var client = new LoadClient(options);
        var progress = options.Quiet ? TextWriter.Null : error;

        try
        {
            // Reached before anything is rendered: a service that is down, or a read API that wants a key, fails at once.
            await client.CohortAsync(project.Value, cohort.Value, ct);
            await RunSyncsAsync(options, plan, project, cohort, client, summary, progress, ct);
            summary.ExitCode = summary.Verification!.Passed ? ExitCodes.Converged : ExitCodes.Diverged;
        }
        catch (LoadAbortedException e)
        {
            summary.Error = e.Message;
            summary.ExitCode = Aborted;
        }

        if (!options.Quiet)
            summary.WriteText(output);
        else if (summary.ExitCode != ExitCodes.Converged)
            summary.WriteText(error);
        if (summary.Error is not null)
            await error.WriteLineAsync($"simulate --load: aborted: {summary.Error}");

        if (options.JsonPath is { } path && !await SimulateCommand.TryWriteJsonAsync(path, summary.ToJson(), error, ct))
            return ExitCodes.WithSummaryNotWritten(summary.ExitCode);
        return summary.ExitCode;
    }

    static async Task RunSyncsAsync(
        SimulateOptions options, LoadPlan plan, ProjectId project, CohortId cohort, LoadClient client, LoadSummary summary,
        TextWriter progress, CancellationToken ct)
    {
        var rendering = Stopwatch.StartNew();
        var full = plan.RenderFullSync(project, cohort, SessionId.Of($"{cohort.Value}-full"));
        var diff = plan.HasDiff ? plan.RenderDiffSync(project, cohort, SessionId.Of($"{cohort.Value}-diff")) : null;
        summary.RenderSeconds = rendering.Elapsed.TotalSeconds;
        summary.RenderedMegabytes = (full.Bytes + (diff?.Bytes ?? 0)) / 1e6;
        // What rendering left behind is collected now rather than inside the clock.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        await progress.WriteLineAsync(
            $"simulate --load: {full.Pages:N0} + {diff?.Pages ?? 0:N0} pages rendered ({summary.RenderedMegabytes:N1} MB) in {summary.RenderSeconds:F2} s");

        // The destination exists before the first sync: it is sent what is committed after it was created.
        await using var sink = options.Sink ? await LoadDelivery.StartAsync(options, ct) : null;
        var (fullFigures, started, fullVisible) = await PlayAsync("full sync", full, plan.Size, options, project, cohort, client, progress, ct);
        summary.Full = fullFigures;
        var fullDelivery = sink is null ? null : await sink.AwaitAsync(plan.Size, fullVisible, probe: true, client, progress, ct);
        SyncDelivery? diffDelivery = null;
        if (diff is not null)
        {
            (summary.Diff, _, var diffVisible) = await PlayAsync("diff sync", diff, plan.CountAfterDiff, options, project, cohort, client, progress, ct);
            if (sink is not null)
                diffDelivery = await sink.AwaitAsync(plan.Entering + plan.Leaving, diffVisible, probe: false, client, progress, ct);
        }
        summary.Delivery = sink?.Figures(fullDelivery, diffDelivery);

        summary.Verification = await VerifyAsync(plan, project.Value, cohort.Value, client, ct);
        summary.TotalSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Pushes one sync and waits for its commit to show; returns its figures, when its first request went and
    /// when the commit showed.</summary>
    static async Task<(SyncFigures Figures, long FirstSent, long VisibleAt)> PlayAsync(
        string name, RenderedSync sync, long expectedCount, SimulateOptions options, ProjectId project, CohortId cohort,
        LoadClient client, TextWriter progress, CancellationToken ct)
    {
        var acknowledged = 0;
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progressLoop = ReportProgressAsync(name, sync.Pages, () => Volatile.Read(ref acknowledged), progress, stopProgress.Token);
        Push push;
        try
        {
            push = await LoadSender.PushAsync(client, sync, options.InFlight, () => Interlocked.Increment(ref acknowledged), ct);
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progressLoop;
        }

        var (visibleAt, state, reads) = await CommitWatch.UntilCommittedAsync(
            client, project.Value, cohort.Value, sync.SessionId.Value, options.CallTimeout, ct);
        var figures = SyncFigures.Of(sync, push, visibleAt, reads);
        await progress.WriteLineAsync(
            $"simulate --load: {name} committed, {state.MemberCount:N0} members (expected {expectedCount:N0}), "
            + $"{figures.FirstRequestToCommittedSeconds:F2} s after its first request");
        return (figures, push.FirstSent, visibleAt);
    }

    static async Task ReportProgressAsync(string name, int pages, Func<int> acknowledged, TextWriter progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ct);
                await progress.WriteLineAsync($"simulate --load: {name}: {acknowledged():N0} of {pages:N0} pages acknowledged, {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The member count the read API shows, and a sample of users each looked up.</summary>
    static async Task<Verification> VerifyAsync(LoadPlan plan, string project, string cohort, LoadClient client, CancellationToken ct)
    {
        var afterDiff = plan.HasDiff;
        var expected = afterDiff ? plan.CountAfterDiff : plan.Size;
        var state = await client.CohortAsync(project, cohort, ct);
        var wrong = new List<string>();
        var sample = plan.Sample(SamplePerGroup, afterDiff);
        foreach (var user in sample)
        {
            var shouldBe = plan.IsMember(user, afterDiff);
            if (await client.IsMemberAsync(project, cohort, SimulatedUsers.DistinctIdOf(user), ct) != shouldBe)
                wrong.Add($"{SimulatedUsers.DistinctIdOf(user)} {(shouldBe ? "missing" : "present")}");
        }
        return new Verification(expected, state?.MemberCount ?? 0, sample.Count, wrong);
    }
}
