using System.CommandLine;
using CohortSync.Domain;
using CohortSync.Simulate.Load;

namespace CohortSync.Simulate;

/// <summary>The options of <c>simulate</c>, their defaults, and what they must mean.</summary>
public sealed class SimulateOptionsReader
{
    static readonly SimulateOptions Defaults = new();

    // Every cohort is built in memory and played by a task of its own, every sync and page in flight holds a
    // connection: bounds far above any useful run, below what exhausts the machine.
    const int MaxCohorts = 10_000;
    const int MaxSyncs = 100_000;
    const int MaxAtOnce = 256;

    readonly Option<string> url = new("--url")
    {
        Description = "The webhook URL Mixpanel posts to",
        DefaultValueFactory = _ => Defaults.WebhookUrl.ToString(),
    };

    readonly Option<string?> apiUrl = new("--api-url")
    {
        Description = "Base URL of the read API (/v1/...) [default: the origin of --url, e.g. http://127.0.0.1:8080/]",
    };

    readonly Option<string?> username = new("--username") { Description = "Basic user name for the webhook" };

    readonly Option<string?> password = new("--password")
    {
        Description = $"Basic password [default: ${SimulateCommand.PasswordVariable}]; prefer the variable, a command line is visible to others",
    };

    readonly Option<string?> user = new("--user") { Description = "Basic credentials as name:password (instead of --username/--password)" };

    readonly Option<string?> apiKey = new("--api-key") { Description = "Key sent as 'Authorization: Bearer' to the read API" };

    readonly Option<string> project = new("--project")
    {
        Description = "mixpanel_project_id of every cohort",
        DefaultValueFactory = _ => Defaults.Project,
    };

    readonly Option<int> cohorts = new("--cohorts") { Description = "How many cohorts (1 to 10000)", DefaultValueFactory = _ => Defaults.Cohorts };

    readonly Option<int> size = new("--size") { Description = "Members of each cohort at its first sync", DefaultValueFactory = _ => Defaults.Size };

    readonly Option<double> churn = new("--churn")
    {
        Description = "Share of members leaving before each later sync (as many join, and half as many profiles change)",
        DefaultValueFactory = _ => Defaults.Churn,
    };

    readonly Option<int> syncs = new("--syncs") { Description = "Syncs of each cohort, 30 minutes apart (scaled), 1 to 100000", DefaultValueFactory = _ => Defaults.Syncs };

    readonly Option<double> faultRate = new("--fault-rate")
    {
        Description = "Probability that a call meets a network fault: lost before or after the service, delayed, or answered 5xx/429 by a proxy",
        DefaultValueFactory = _ => Defaults.FaultRate,
    };

    readonly Option<double> duplicateRate = new("--duplicate-rate")
    {
        Description = "Probability that a call without a fault is delivered twice",
        DefaultValueFactory = _ => Defaults.DuplicateRate,
    };

    readonly Option<int> concurrency = new("--concurrency") { Description = "Syncs played at once (across cohorts), 1 to 256", DefaultValueFactory = _ => Defaults.Concurrency };

    readonly Option<int> inFlight = new("--in-flight") { Description = "Pages of one sync in flight at once, 1 to 256", DefaultValueFactory = _ => Defaults.InFlight };

    readonly Option<int?> seed = new("--seed") { Description = "Seed of everything random (members, churn, faults) [default: drawn, and printed]" };

    readonly Option<double> timeScale = new("--time-scale")
    {
        Description = "Multiplies every wait (30 minutes between syncs, retry backoff); 0 waits not at all",
        DefaultValueFactory = _ => Defaults.TimeScale,
    };

    readonly Option<int> pageSize = new("--page-size")
    {
        Description = "Members per call, 1 to 10000 (Mixpanel sends 1000)",
        DefaultValueFactory = _ => Defaults.PageSize,
    };

    readonly Option<int> readLimit = new("--read-limit")
    {
        Description = "Members per page when reading the cohorts back (the read API's limit); at most the service's Api:MaxPageSize",
        DefaultValueFactory = _ => Defaults.ReadLimit,
    };

    readonly Option<double> timeout = new("--timeout")
    {
        Description = "Seconds a call waits for its answer before it counts as unanswered",
        DefaultValueFactory = _ => Defaults.CallTimeout.TotalSeconds,
    };

    readonly Option<string?> json = new("--json") { Description = "Also write the summary to this file, as JSON" };

    readonly Option<bool> quiet = new("--quiet") { Description = "No progress lines and no summary on stdout; the summary goes to stderr when the exit code is not 0" };

    readonly Option<bool> load = new("--load")
    {
        Description = $"Load mode: one fault-free full sync of --size users [default {LoadRun.DefaultSize}], then a diff of --diff changes, "
                      + $"timed and checked [--timeout default {LoadRun.DefaultTimeoutSeconds}]",
    };

    readonly Option<int> diff = new("--diff")
    {
        Description = "With --load: changes in the diff sync, half users entering and half leaving; 0 plays no diff sync "
                      + $"[default: {Defaults.Diff}, or --size when smaller]",
    };

    readonly Option<bool> sink = new("--sink")
    {
        Description = "Also play the destination: a local sink created through /v1/destinations before the syncs, every delivery verified after them "
                      + "(with --load: delivery timed instead)",
    };

    readonly Option<double> sinkFaults = new("--sink-faults")
    {
        Description = "With --sink: probability that the sink answers a delivery with a fault: 5xx, 429 with Retry-After, slow, or lost",
        DefaultValueFactory = _ => Defaults.SinkFaultRate,
    };

    readonly Option<double> sinkSlow = new("--sink-slow")
    {
        Description = "With --sink: seconds a slow answer takes at most; above the service's Destinations:TimeoutSeconds some come after it gave up",
        DefaultValueFactory = _ => Defaults.SinkSlow.TotalSeconds,
    };

    readonly Option<int> sinkBatchSize = new("--sink-batch-size")
    {
        Description = "With --sink: changes per delivery, 1 to 1000 [default: 100, with --load 1000]",
        DefaultValueFactory = _ => Defaults.SinkBatchSize,
    };

    readonly Option<double> sinkWait = new("--sink-wait")
    {
        Description = "With --sink: seconds to wait after the syncs for delivery to catch up with the feed [default: 120, with --load 600 after each sync]",
        DefaultValueFactory = _ => Defaults.SinkWait.TotalSeconds,
    };

    readonly Option<int?> sinkMixpanelPort = new("--sink-mixpanel-port")
    {
        Description = "With --sink: also run a stand-in for Mixpanel's /import on 127.0.0.1:N and a mixpanel destination sending to it; "
            + "the service must be run with Destinations__Mixpanel__Hosts__US=http://127.0.0.1:N",
    };

    public IEnumerable<Option> All =>
    [
        url, apiUrl, username, password, user, apiKey, project, cohorts, size, churn, syncs, faultRate, duplicateRate,
        concurrency, inFlight, seed, timeScale, pageSize, readLimit, timeout, json, quiet, load, diff,
        sink, sinkFaults, sinkSlow, sinkBatchSize, sinkWait, sinkMixpanelPort,
    ];

    /// <summary>The options, or null with every problem added to <paramref name="problems"/>.</summary>
    public SimulateOptions? Read(ParseResult parsed, Func<string, string?> environment, List<string> problems)
    {
        var webhookUrl = HttpUrl(parsed.GetValue(url), "--url", problems);
        var api = parsed.GetValue(apiUrl) is { } a ? HttpUrl(a.EndsWith('/') ? a : a + "/", "--api-url", problems) : null;

        var projectId = parsed.GetValue(project) ?? "";
        if (!ProjectId.TryCreate("--project", projectId, out _, out var invalid))
            problems.AddRange(invalid.Select(p => p.ToString()));

        var cohortCount = Between(parsed.GetValue(cohorts), 1, MaxCohorts, "--cohorts", problems);
        var loadMode = parsed.GetValue(load);
        var members = loadMode && !Given(parsed, size) ? LoadRun.DefaultSize : parsed.GetValue(size);
        var changes = LoadChanges(parsed, loadMode, members, problems);
        if (members is < 0 or > 10_000_000)
            problems.Add("--size must be between 0 and 10000000 (Mixpanel syncs at most 10 million users a cohort)");
        var perPage = parsed.GetValue(pageSize);
        // A page of 10,000 rendered members is some 2 MB; far larger pages meet the service's body limit
        // (Webhook:MaxBodyBytes, 16 MiB by default), whose 413 pauses every sync.
        if (perPage is < 1 or > 10_000)
            problems.Add("--page-size must be between 1 and 10000 (Mixpanel sends 1000)");
        else if ((long)members / perPage >= PageInfo.MaxTotalPages)
            problems.Add($"--size / --page-size must stay below {PageInfo.MaxTotalPages} pages");

        var membersPerRead = parsed.GetValue(readLimit);
        if (membersPerRead is < 1 or > 10_000)
            problems.Add("--read-limit must be between 1 and 10000 (the read API's Api:MaxPageSize is at most 10000)");

        var scale = parsed.GetValue(timeScale);
        if (!double.IsFinite(scale) || scale < 0)
            problems.Add("--time-scale must be 0 or more");
        var callTimeout = loadMode && !Given(parsed, timeout) ? LoadRun.DefaultTimeoutSeconds : parsed.GetValue(timeout);
        if (!double.IsFinite(callTimeout) || callTimeout <= 0 || callTimeout > 3600)
            problems.Add("--timeout must be more than 0 and at most 3600 seconds");
        var seedValue = parsed.GetValue(seed) ?? Random.Shared.Next();
        if (seedValue < 0)
            problems.Add("--seed must be 0 or more");

        var withSink = parsed.GetValue(sink);
        foreach (var option in new Option[] { sinkFaults, sinkSlow, sinkBatchSize, sinkWait, sinkMixpanelPort })
            if (!withSink && Given(parsed, option))
                problems.Add($"{option.Name} needs --sink");
        var slowSeconds = Seconds(parsed.GetValue(sinkSlow), 0, 60, "--sink-slow", problems);
        var waitSeconds = Seconds(loadMode && !Given(parsed, sinkWait) ? 600 : parsed.GetValue(sinkWait), 1, 3600, "--sink-wait", problems);
        var mixpanelPort = parsed.GetValue(sinkMixpanelPort) is { } port ? Between(port, 1, 65535, "--sink-mixpanel-port", problems) : (int?)null;
        if (loadMode && mixpanelPort is not null)
            problems.Add("--sink-mixpanel-port is not for --load");
        var batchSize = Between(loadMode && !Given(parsed, sinkBatchSize) ? 1000 : parsed.GetValue(sinkBatchSize), 1, 1000, "--sink-batch-size", problems);

        var jsonPath = parsed.GetValue(json);
        if (jsonPath is not null)
            CheckWritable(jsonPath, problems);

        var options = new SimulateOptions
        {
            WebhookUrl = webhookUrl ?? Defaults.WebhookUrl,
            ApiUrl = api,
            Credentials = Credentials(parsed, environment, problems),
            ApiKey = parsed.GetValue(apiKey) is { Length: > 0 } key ? key : null,
            Project = projectId,
            Cohorts = cohortCount,
            Size = members,
            Churn = Fraction(parsed.GetValue(churn), "--churn", problems),
            Syncs = Between(parsed.GetValue(syncs), 1, MaxSyncs, "--syncs", problems),
            FaultRate = Fraction(parsed.GetValue(faultRate), "--fault-rate", problems),
            DuplicateRate = Fraction(parsed.GetValue(duplicateRate), "--duplicate-rate", problems),
            Concurrency = Between(parsed.GetValue(concurrency), 1, MaxAtOnce, "--concurrency", problems),
            InFlight = Between(parsed.GetValue(inFlight), 1, MaxAtOnce, "--in-flight", problems),
            Seed = seedValue,
            TimeScale = scale,
            PageSize = perPage,
            ReadLimit = membersPerRead,
            CallTimeout = double.IsFinite(callTimeout) && callTimeout > 0 ? TimeSpan.FromSeconds(callTimeout) : Defaults.CallTimeout,
            JsonPath = jsonPath,
            Quiet = parsed.GetValue(quiet),
            Load = loadMode,
            Diff = changes,
            Sink = withSink,
            SinkFaultRate = Fraction(parsed.GetValue(sinkFaults), "--sink-faults", problems),
            SinkSlow = TimeSpan.FromSeconds(slowSeconds),
            SinkBatchSize = batchSize,
            SinkWait = TimeSpan.FromSeconds(waitSeconds),
            SinkMixpanelPort = mixpanelPort,
        };
        return problems.Count == 0 ? options : null;
    }

    /// <summary>The diff's size; in load mode, also what does not apply to it (it has no faults, one cohort, one pass).</summary>
    int LoadChanges(ParseResult parsed, bool loadMode, int members, List<string> problems)
    {
        // The default is never refused: a small cohort gets a smaller diff.
        var changes = Given(parsed, diff) ? parsed.GetValue(diff) : Math.Min(Defaults.Diff, Math.Max(members, 0));
        if (!loadMode)
        {
            if (Given(parsed, diff))
                problems.Add("--diff needs --load");
            return changes;
        }

        foreach (var option in new Option[] { cohorts, churn, syncs, faultRate, duplicateRate, concurrency, seed, timeScale, readLimit, sinkFaults, sinkSlow })
            if (Given(parsed, option))
                problems.Add($"{option.Name} does not apply to --load");
        if (members < 1)
            problems.Add("--size must be at least 1 with --load");
        // Half of the changes leave the cohort: there must be that many members to remove.
        else if (changes < 0 || changes - changes / 2 > members)
            problems.Add("--diff must be between 0 and twice --size with --load (half of its changes are members leaving)");
        return changes;
    }

    static bool Given(ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };

    /// <summary>From --user, or --username with --password or the environment; none at all for an open webhook.</summary>
    BasicCredentials? Credentials(ParseResult parsed, Func<string, string?> environment, List<string> problems)
    {
        var name = parsed.GetValue(username);
        var secret = parsed.GetValue(password);
        if (parsed.GetValue(user) is { } both)
        {
            if (name is not null || secret is not null)
                problems.Add("--user cannot be combined with --username or --password");
            var colon = both.IndexOf(':');
            // The value is never echoed: it holds a password.
            if (colon <= 0)
            {
                problems.Add("--user must be name:password");
                return null;
            }
            return new BasicCredentials(both[..colon], both[(colon + 1)..]);
        }

        secret ??= environment(SimulateCommand.PasswordVariable);
        if (name is null)
        {
            if (parsed.GetValue(password) is not null)
                problems.Add("--password needs --username");
            return null;
        }
        if (name.Length == 0 || name.Contains(':'))
            problems.Add("--username must be non-empty and without ':'");
        if (string.IsNullOrEmpty(secret))
        {
            problems.Add($"--username needs a password: --password, or the {SimulateCommand.PasswordVariable} environment variable");
            return null;
        }
        return new BasicCredentials(name, secret);
    }

    /// <summary>The summary is written after the whole run: a file that cannot be written is found out now.</summary>
    static void CheckWritable(string path, List<string> problems)
    {
        try
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full))
            {
                problems.Add($"--json: {path} is a folder, not a file");
                return;
            }
            if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
            {
                problems.Add($"--json: folder {folder} does not exist");
                return;
            }

            // Opened for writing without truncating: an existing file keeps its content until the run ends;
            // a file created only to try is removed again.
            var existed = File.Exists(full);
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write))
            {
            }
            if (!existed)
                File.Delete(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add($"--json: cannot write {path}: {e.Message}");
        }
    }

    /// <summary>An http(s) URL without user info: credentials in a URL would be printed in the summary and
    /// never sent (the webhook's come from --user or --username, the read API's key from --api-key).</summary>
    static Uri? HttpUrl(string? raw, string option, List<string> problems)
    {
        if (Uri.TryCreate(raw, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            if (uri.UserInfo.Length == 0)
                return uri;
            problems.Add($"{option} must not carry credentials (name:password@): give the webhook's with --user, or --username and "
                         + $"the {SimulateCommand.PasswordVariable} environment variable; the read API's key with --api-key");
            return null;
        }
        // What precedes an '@' may be a password: such a value is not echoed.
        problems.Add(raw is not null && raw.Contains('@')
            ? $"{option} must be an absolute http:// or https:// URL"
            : $"{option} must be an absolute http:// or https:// URL, not '{raw}'");
        return null;
    }

    static int Between(int value, int least, int most, string option, List<string> problems)
    {
        if (value < least || value > most)
            problems.Add($"{option} must be between {least} and {most}");
        return value;
    }

    /// <summary>Seconds in a range; the lower bound itself when out of it, so that a run is never built on nonsense.</summary>
    static double Seconds(double value, double least, double most, string option, List<string> problems)
    {
        if (!(value >= least && value <= most))
        {
            problems.Add($"{option} must be between {least} and {most} seconds");
            return least;
        }
        return value;
    }

    static double Fraction(double value, string option, List<string> problems)
    {
        if (!(value is >= 0 and <= 1))
            problems.Add($"{option} must be between 0 and 1");
        return value;
    }
}
