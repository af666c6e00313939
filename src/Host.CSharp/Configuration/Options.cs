using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Configuration;

/// <summary>The webhook Mixpanel posts to (section <c>Webhook</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhook";

    /// <summary>The path of the webhook endpoint.</summary>
    [Required, RegularExpression("^/.*", ErrorMessage = "Webhook:Path must start with /")]
    public string Path { get; set; } = "/webhook";

    /// <summary>Bodies larger than this are refused with 413.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Basic credentials Mixpanel may use. With none, every request is accepted (and a warning logged):
    /// outside Development only when <see cref="AllowAnonymous"/> says so.
    /// </summary>
    public List<WebhookCredential> Credentials { get; set; } = [];

    /// <summary>Lets a service outside Development start without credentials, accepting every request.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Seconds a sender is told to wait (Retry-After) when the database cannot take a page now.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;
}

/// <summary>One Basic credential and the Mixpanel projects it may sync.</summary>
public sealed class WebhookCredential
{
    [Required]
    public string Username { get; set; } = "";

    [Required]
    public string Password { get; set; } = "";

    /// <summary>Project ids this credential may sync; none listed, or <c>*</c> among them, allows every project.</summary>
    public List<string> Projects { get; set; } = [];
}

/// <summary>
/// Refuses to start with a credential whose name or password is empty (a misspelt setting), which
/// would otherwise accept an empty password, or with a blank project entry (see <see cref="ProjectLists"/>).
/// Data annotations do not look inside list items.
/// </summary>
public sealed class WebhookCredentialsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var problems = options.Credentials
            .Select((c, i) => (c, i))
            .Where(x => string.IsNullOrEmpty(x.c.Username) || string.IsNullOrEmpty(x.c.Password))
            .Select(x => $"Webhook:Credentials:{x.i} needs both a Username and a Password")
            .ToList();
        problems.AddRange(options.Credentials.SelectMany((c, i) => ProjectLists.BlankEntries($"Webhook:Credentials:{i}", c.Projects)));
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// The project lists of credentials and keys. Only a list left out, or one holding <c>*</c>, means every
/// project: a blank entry (an unset variable, a stray separator) stops the start, since dropping it could
/// leave an empty list, and so turn a credential for one project into one for all of them.
/// </summary>
static class ProjectLists
{
    public static IEnumerable<string> BlankEntries(string owner, List<string> projects) =>
        projects
            .Select((p, j) => (p, j))
            .Where(x => string.IsNullOrWhiteSpace(x.p))
            .Select(x => $"{owner}:Projects:{x.j} is blank: list project ids, or * for every project");
}

/// <summary>The private PostgreSQL used when no connection string is configured (section <c>LocalPostgres</c>).</summary>
public sealed class LocalPostgresOptions
{
    public const string Section = "LocalPostgres";

    /// <summary>Where the data folder lives; default <c>.local/postgres</c> in the checkout.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The server's port. Left out, each checkout keeps a free port of its own (in the data folder's
    /// <c>port</c> file), so that two checkouts on one machine can both run.
    /// </summary>
    [Range(1024, 65535)]
    public int? Port { get; set; }

    /// <summary>The database the service uses on that server.</summary>
    [Required]
    public string Database { get; set; } = "cohortsync";
}

/// <summary>The read API (section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    [Range(1, 10_000)]
    public int DefaultPageSize { get; set; } = 100;

    [Range(1, 10_000)]
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>
    /// Bearer keys for everything under <c>/v1</c>. With none, <c>/v1</c> answers loopback clients only:
    /// outside Development only when <see cref="AllowAnonymous"/> says so.
    /// </summary>
    public List<ApiKey> Keys { get; set; } = [];

    /// <summary>Lets a service outside Development start without keys, answering clients on this machine.</summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>One read API key and the Mixpanel projects whose data it may read.</summary>
public sealed class ApiKey
{
    [Required]
    public string Key { get; set; } = "";

    /// <summary>Project ids this key may read; none listed, or <c>*</c> among them, allows every project.</summary>
    public List<string> Projects { get; set; } = [];
}

/// <summary>
/// Refuses to start with an empty key (a misspelt setting, which would close /v1 to everyone while it
/// looks configured), with one key listed twice (which of its project lists would apply?), with a blank
/// project entry (see <see cref="ProjectLists"/>), or with a default page size over the maximum (every
/// list asked for no limit would answer 400).
/// </summary>
public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var problems = options.Keys
            .Select((k, i) => (k, i))
            .Where(x => string.IsNullOrWhiteSpace(x.k.Key))
            .Select(x => $"Api:Keys:{x.i} needs a Key")
            .ToList();
        if (options.Keys.Where(k => !string.IsNullOrWhiteSpace(k.Key)).GroupBy(k => k.Key, StringComparer.Ordinal).Any(g => g.Count() > 1))
            problems.Add("Api:Keys lists one key more than once");
        problems.AddRange(options.Keys.SelectMany((k, i) => ProjectLists.BlankEntries($"Api:Keys:{i}", k.Projects)));
        if (options.DefaultPageSize > options.MaxPageSize)
            problems.Add($"Api:DefaultPageSize ({options.DefaultPageSize}) must not be over Api:MaxPageSize ({options.MaxPageSize})");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// What is kept, and for how long (section <c>Retention</c>). An abandoned session's staged members go
/// with it; history, transitions and rejections after their number of days.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>False stops the background passes (for a process that must not delete, say).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Minutes between passes (the first comes one interval after the start).</summary>
    [Range(1, 1440)]
    public int IntervalMinutes { get; set; } = 10;

    /// <summary>Finished sessions (with their actions and page records) are kept this many days after they finished.</summary>
    [Range(1, 36500)]
    public int SessionDays { get; set; } = 30;

    /// <summary>Transitions (the change feed's events) are kept this many days after they were recorded.</summary>
    [Range(1, 36500)]
    public int TransitionDays { get; set; } = 30;

    /// <summary>Rejected requests are kept this many days.</summary>
    [Range(1, 36500)]
    public int RejectionDays { get; set; } = 30;

    /// <summary>
    /// An open session without a page for this long is given up (its staged members deleted, its late
    /// pages acknowledged and ignored). Mixpanel retries a page for about a minute and syncs every 30.
    /// </summary>
    [Range(1, 8760)]
    public int OpenSessionGraceHours { get; set; } = 24;

    /// <summary>Staged members that no stored page claims (an upload that never finished) go after this long.</summary>
    [Range(1, 10080)]
    public int UploadGraceMinutes { get; set; } = 60;

    /// <summary>Rows deleted per statement: each batch is its own short transaction.</summary>
    [Range(10, 100_000)]
    public int BatchSize { get; set; } = 1000;
}
