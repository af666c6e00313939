using System.Net.Http.Headers;
using System.Text;
using CohortSync.Domain;
using CohortSync.Mixpanel;

namespace CohortSync.Simulate;

/// <summary>Basic credentials for the webhook. The password never leaves this record: not in
/// <see cref="ToString"/>, not in the summary.</summary>
public sealed record BasicCredentials(string Username, string Password)
{
    public override string ToString() => $"{Username}:***";
}

/// <summary>One simulation: what to sync, against which service, through how unreliable a network.</summary>
public sealed record SimulateOptions
{
    /// <summary>The webhook Mixpanel posts to.</summary>
    public Uri WebhookUrl { get; init; } = new("http://127.0.0.1:8080/webhook");

    /// <summary>The service's base for <c>/v1/...</c>; by default the webhook URL's origin (the read API is
    /// mapped at the root whatever <c>Webhook:Path</c> is).</summary>
    public Uri? ApiUrl { get; init; }

    public BasicCredentials? Credentials { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer</c> to the read API when the service requires keys.</summary>
    public string? ApiKey { get; init; }

    public string Project { get; init; } = "sim";
    public int Cohorts { get; init; } = 3;

    /// <summary>Members of each cohort at its first sync.</summary>
    public int Size { get; init; } = 1000;

    /// <summary>Share of a cohort's members that leave before each later sync (as many others join).</summary>
    public double Churn { get; init; } = 0.05;

    public int Syncs { get; init; } = 5;

    /// <summary>Probability that a call meets a network fault (lost, delayed, answered by a proxy).</summary>
    public double FaultRate { get; init; }

    /// <summary>Probability that a call that meets no fault is delivered twice.</summary>
    public double DuplicateRate { get; init; }

    /// <summary>Syncs played at once, across cohorts.</summary>
    public int Concurrency { get; init; } = 2;

    /// <summary>Pages of one sync in flight at once.</summary>
    public int InFlight { get; init; } = 1;

    public int Seed { get; init; }

    /// <summary>Multiplies every wait (the 30-minute schedule, the backoff): 0 waits not at all.</summary>
    public double TimeScale { get; init; } = 0.001;

    public int PageSize { get; init; } = 1000;

    /// <summary>Members per page when reading the cohorts back; at most the service's <c>Api:MaxPageSize</c>.</summary>
    public int ReadLimit { get; init; } = 1000;

    /// <summary>How long a call waits for its answer before the sender takes it as unanswered.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string? JsonPath { get; init; }
    public bool Quiet { get; init; }

    /// <summary>Load mode (<c>--load</c>, <see cref="Load.LoadRun"/>): one fault-free full sync of <see cref="Size"/>
    /// numbered users, then a diff of <see cref="Diff"/> changes, timed and checked.</summary>
    public bool Load { get; init; }

    /// <summary>Changes in the load mode's diff sync: half users entering, half leaving; 0 plays no diff sync.</summary>
    public int Diff { get; init; } = 10_000;

    /// <summary>Plays the other side too (<see cref="Sink.SinkRun"/>): a local destination created for
    /// <see cref="Project"/> before the syncs, and every delivery verified after them.</summary>
    public bool Sink { get; init; }

    /// <summary>Probability that the sink answers a delivery with a fault (5xx, 429, slow, lost).</summary>
    public double SinkFaultRate { get; init; }

    /// <summary>The longest a slow answer of the sink takes; above the service's <c>Destinations:TimeoutSeconds</c>,
    /// some slow answers come after the caller gave up.</summary>
    public TimeSpan SinkSlow { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Changes per delivery of the sink's destination.</summary>
    public int SinkBatchSize { get; init; } = 100;

    /// <summary>How long to wait, after the syncs, for delivery to catch up with the feed.</summary>
    public TimeSpan SinkWait { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>With the sink: the loopback port of a stand-in for Mixpanel's <c>/import</c> (<see cref="Sink.MixpanelSink"/>),
    /// where the service's US host must point; none plays no Mixpanel.</summary>
    public int? SinkMixpanelPort { get; init; }

    /// <summary>Between two progress lines on stderr.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Mixpanel's documented sender; only the page size is ours to choose.</summary>
    public Sender.Settings SenderSettings
    {
        get
        {
            var mixpanel = Sender.Settings.Mixpanel;
            return new Sender.Settings(PageSize, mixpanel.SyncInterval, mixpanel.SnapshotLifetime, mixpanel.Retries, mixpanel.FirstBackoff);
        }
    }

    public Uri ReadApiBase => ApiUrl ?? new Uri(WebhookUrl.GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>The webhook's <c>Authorization: Basic</c>, or null without credentials.</summary>
    public AuthenticationHeaderValue? WebhookAuthorization => Credentials is { } c
        ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")))
        : null;

    /// <summary>The read API's <c>Authorization: Bearer</c>, or null without a key.</summary>
    public AuthenticationHeaderValue? ReadApiAuthorization => ApiKey is { } key ? new AuthenticationHeaderValue("Bearer", key) : null;
}
