using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using CohortSync.Host.Security;

namespace CohortSync.Host.Api;

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
