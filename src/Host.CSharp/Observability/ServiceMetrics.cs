using CohortSync.Domain;
using CohortSync.Host.Security;
using Prometheus;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.Observability;

/// <summary>The amounts a commit changed, as its SQL reports them.</summary>
public sealed record CommitCounts(long Entered, long Exited, long MembersApplied);

/// <summary>
/// Every metric the service exports (all named <c>cohortsync_*</c>). Labels take only small fixed sets
/// of values (actions, outcomes, reasons, kinds, route patterns, status codes): never a member's data,
/// and no per-cohort series.
/// </summary>
public sealed class ServiceMetrics
{
    static readonly string[] PageOutcomes = PageOutcome.Names;

    /// <summary>Why the webhook refused a request, as <c>rejected_request.reason</c> records it.</summary>
    internal static readonly string[] RejectionReasons =
        ["unauthorized", "too_large", "invalid_body", "forbidden_project", "action_conflict", "unavailable", "internal_error"];

    static readonly string[] SessionKinds = [.. SessionKind.All.Select(k => k.ToString())];
    static readonly string Entered = TransitionKind.Entered.ToString(), Exited = TransitionKind.Exited.ToString();
    static readonly string[] RetentionResults = ["completed", "skipped", "failed"];
    // What retention deletes, counted one by one whatever rows hold them (a page's staged members share one row).
    static readonly string[] RetentionItems = ["staged_member", "transition", "session", "rejection", "action_report"];

    readonly Counter pages;
    readonly Counter rejections;
    readonly Counter accessRefusals;
    readonly Counter sessionsCommitted;
    readonly Counter sessionsSuperseded;
    readonly Counter sessionsAbandoned;
    readonly Histogram commitDuration;
    readonly Counter membersApplied;
    readonly Counter transitions;
    readonly Histogram requestDuration;
    readonly Counter retentionPasses;
    readonly Counter retentionDeleted;

    public ServiceMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        pages = factory.CreateCounter("cohortsync_webhook_pages_total",
            "Webhook pages whose session state was decided, by action and outcome.", "action", "outcome");
        rejections = factory.CreateCounter("cohortsync_webhook_rejections_total",
            "Webhook requests refused, by reason (the reason recorded in rejected_request).", "reason");
        accessRefusals = factory.CreateCounter("cohortsync_access_refusals_total",
            "Requests refused access, by reason (webhook_credentials, api_key, operations_key: missing or wrong; " +
            "not_local: /v1 without keys from another machine; too_many_failures: 429 after Security:FailedAuthLimit).", "reason");
        sessionsCommitted = factory.CreateCounter("cohortsync_sessions_committed_total",
            "Sessions committed (applied to membership), by kind (full, diff).", "kind");
        sessionsSuperseded = factory.CreateCounter("cohortsync_sessions_superseded_total",
            "Open sessions superseded by a newer session of their cohort (they never commit).");
        sessionsAbandoned = factory.CreateCounter("cohortsync_sessions_abandoned_total",
            "Open sessions given up by retention after Retention:OpenSessionGraceHours without a page.");
        commitDuration = factory.CreateHistogram("cohortsync_commit_duration_seconds",
            "Time to apply a session and commit its transaction, by kind.", ["kind"],
            new HistogramConfiguration { Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        membersApplied = factory.CreateCounter("cohortsync_members_applied_total",
            "Staged members (rows of the session's pages) applied by commits, by session kind.", "kind");
        transitions = factory.CreateCounter("cohortsync_transitions_recorded_total",
            "Membership transitions recorded by commits, by kind (entered, exited).", "kind");
        requestDuration = factory.CreateHistogram("cohortsync_http_request_duration_seconds",
            "HTTP request duration, by method, endpoint (route pattern; empty when no route matched) and status code.",
            ["method", "endpoint", "status"],
            new HistogramConfiguration { Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        retentionPasses = factory.CreateCounter("cohortsync_retention_passes_total",
            "Retention passes, by result (completed; skipped: another process held the retention lock; failed).", "result");
        retentionDeleted = factory.CreateCounter("cohortsync_retention_deleted_total",
            "Items deleted by retention, by item (staged_member, transition, session, rejection, action_report).", "item");

        // Known series start at zero, so a rate() or increase() sees their first change.
        foreach (var action in WebhookAction.All)
            foreach (var outcome in PageOutcomes)
                pages.WithLabels(action.WireName, outcome);
        foreach (var reason in RejectionReasons)
            rejections.WithLabels(reason);
        foreach (var reason in AccessRefusal.All)
            accessRefusals.WithLabels(reason);
        foreach (var kind in SessionKinds)
        {
            sessionsCommitted.WithLabels(kind);
            membersApplied.WithLabels(kind);
        }
        transitions.WithLabels(Entered);
        transitions.WithLabels(Exited);
        foreach (var result in RetentionResults)
            retentionPasses.WithLabels(result);
        foreach (var item in RetentionItems)
            retentionDeleted.WithLabels(item);
    }

    public void PageDecided(WebhookAction action, PageOutcome outcome) => pages.WithLabels(action.WireName, outcome.ToString()).Inc();

    public void Rejected(string reason) => rejections.WithLabels(reason).Inc();

    /// <summary>A transaction that carried out session events committed: counts what they did.</summary>
    internal void SessionsFinished(Webhook.SessionWrites writes)
    {
        sessionsSuperseded.Inc(writes.SessionsSuperseded);
        sessionsAbandoned.Inc(writes.SessionsAbandoned);
        if (writes.Commit is not { } commit)
            return;
        var kind = commit.Kind.ToString();
        sessionsCommitted.WithLabels(kind).Inc();
        commitDuration.WithLabels(kind).Observe(commit.Duration.TotalSeconds);
        membersApplied.WithLabels(kind).Inc(commit.Counts.MembersApplied);
        transitions.WithLabels(Entered).Inc(commit.Counts.Entered);
        transitions.WithLabels(Exited).Inc(commit.Counts.Exited);
    }

    public void RequestServed(string method, string endpoint, int status, TimeSpan duration) =>
        requestDuration.WithLabels(method, endpoint, status.ToString()).Observe(duration.TotalSeconds);

    public void AccessRefused(string reason) => accessRefusals.WithLabels(reason).Inc();

    public void RetentionPass(string result) => retentionPasses.WithLabels(result).Inc();

    public void RetentionDeleted(string item, long count)
    {
        if (count > 0)
            retentionDeleted.WithLabels(item).Inc(count);
    }
}
