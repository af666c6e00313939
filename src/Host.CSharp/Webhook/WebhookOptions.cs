using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using CohortSync.Host.Security;

namespace CohortSync.Host.Webhook;

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
