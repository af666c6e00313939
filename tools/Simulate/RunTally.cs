using CohortSync.Domain;
using static CohortSync.Mixpanel.Sender;
using static CohortSync.Mixpanel.SyncRun;

namespace CohortSync.Simulate;

/// <summary>
/// What the run has done so far. Syncs are counted from the model's reports as each sync ends (and the
/// report is then dropped: a million-member sync's pages are not kept); deliveries are counted as they
/// happen, for the progress line of a long sync.
/// </summary>
public sealed class RunTally
{
    readonly Lock gate = new();
    readonly List<double> acceptedLatenciesMs = [];
    readonly SortedDictionary<string, long> faults = new(StringComparer.Ordinal);
    readonly SortedDictionary<string, long> answers = new(StringComparer.Ordinal);

    long deliveries;
    long copiesAcknowledged;
    long membersAcknowledged;

    public int SyncsSucceeded { get; private set; }
    public int SyncsFailed { get; private set; }
    public int SyncsPaused { get; private set; }
    public int SyncsSkipped { get; private set; }
    public int FullSyncs { get; private set; }
    public int DiffSyncs { get; private set; }
    public long PagesAccepted { get; private set; }
    public long MembersAccepted { get; private set; }
    public long Calls { get; private set; }
    public long Retries { get; private set; }
    public long Duplicates { get; private set; }
    public long FaultsInjected { get; private set; }
    public long LateDeliveries { get; private set; }

    public int SyncsDone => SyncsSucceeded + SyncsFailed + SyncsPaused;

    /// <summary>Copies the service answered with a status (a duplicated call counts twice; a lost one, and one whose
    /// connection failed or timed out, not at all: whether that reached the service is unknown).</summary>
    public long Deliveries => Interlocked.Read(ref deliveries);

    /// <summary>Deliveries the service answered 2xx, and their members: every copy counts (a duplicate's second copy,
    /// a late copy, a retry of a page already stored), so these exceed the pages the sender saw accepted.</summary>
    public long CopiesAcknowledged => Interlocked.Read(ref copiesAcknowledged);

    public long MembersAcknowledged => Interlocked.Read(ref membersAcknowledged);

    /// <summary>One copy handed to the service, and what it answered.</summary>
    public void Posted(WebhookPage page, Answer answer)
    {
        if (answer is not Answer.Status status)
            return;
        Interlocked.Increment(ref deliveries);
        if (status.Code is >= 200 and < 300)
        {
            Interlocked.Increment(ref copiesAcknowledged);
            Interlocked.Add(ref membersAcknowledged, page.Members.Length);
        }
    }

    public void Add(SyncReport report)
    {
        lock (gate)
        {
            if (report.Sync.Kind.IsFull) FullSyncs++;
            else DiffSyncs++;
            switch (report.Outcome)
            {
                case { IsSucceeded: true }: SyncsSucceeded++; break;
                case { IsFailed: true }: SyncsFailed++; break;
                default: SyncsPaused++; break;
            }

            LateDeliveries += report.LateDeliveries;
            foreach (var call in report.Calls)
            {
                Calls++;
                if (call.Attempt > 1)
                    Retries++;
                if (call.Fault.IsDuplicated)
                    Duplicates++;
                else if (!call.Fault.IsNoFault)
                {
                    FaultsInjected++;
                    Increment(faults, NetworkDice.KindOf(call.Fault));
                }

                Increment(answers, call.Answer is Answer.Status s ? s.Code.ToString() : "no answer");
                if (call.Verdict.IsAccepted)
                {
                    PagesAccepted++;
                    MembersAccepted += call.Page.Members.Length;
                    acceptedLatenciesMs.Add(call.Latency.TotalMilliseconds);
                }
            }
        }
    }

    public void Skipped(int syncs)
    {
        lock (gate)
            SyncsSkipped += syncs;
    }

    public IReadOnlyDictionary<string, long> FaultsByKind
    {
        get { lock (gate) return new SortedDictionary<string, long>(faults); }
    }

    /// <summary>What the sender saw, per call: an HTTP status or <c>no answer</c>.</summary>
    public IReadOnlyDictionary<string, long> AnswersSeen
    {
        get { lock (gate) return new SortedDictionary<string, long>(answers); }
    }

    /// <summary>The latency below which <paramref name="percent"/>% of accepted calls were acknowledged (nearest rank).</summary>
    public double? AcceptedLatencyPercentileMs(double percent)
    {
        lock (gate)
        {
            if (acceptedLatenciesMs.Count == 0)
                return null;
            acceptedLatenciesMs.Sort();
            var rank = (int)Math.Ceiling(percent / 100 * acceptedLatenciesMs.Count);
            return acceptedLatenciesMs[Math.Clamp(rank - 1, 0, acceptedLatenciesMs.Count - 1)];
        }
    }

    static void Increment(SortedDictionary<string, long> counts, string key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;
}
