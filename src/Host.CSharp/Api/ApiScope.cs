using System.Text.Json;

namespace CohortSync.Host.Api;

/// <summary>The Mixpanel projects a read API caller may see: every project, or some.</summary>
public sealed class ApiScope
{
    readonly HashSet<string>? projects;

    ApiScope(HashSet<string>? projects) => this.projects = projects;

    public static readonly ApiScope EveryProject = new(null);

    /// <summary>
    /// Empty, or containing <c>*</c>, means every project (as for webhook credentials). Blank entries are
    /// refused at start-up (<see cref="Configuration.ApiOptionsValidator"/>), not dropped here.
    /// </summary>
    public static ApiScope For(IEnumerable<string> projects)
    {
        var set = projects.ToHashSet(StringComparer.Ordinal);
        return set.Count == 0 || set.Contains("*") ? EveryProject : new ApiScope(set);
    }

    public bool Sees(string projectId) => projects is null || projects.Contains(projectId);

    /// <summary>The projects to filter on in SQL; null when every project is visible.</summary>
    public string[]? Projects => projects?.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A stable name for this set of projects. Feed consumers are stored under it, so a key only ever
    /// reads or moves the consumers of keys that see exactly the same projects.
    /// </summary>
    public string Name => projects is null ? "*" : JsonSerializer.Serialize(Projects);
}

/// <summary>The scope of the request being served, set by <see cref="ApiAccess"/> before any /v1 handler runs.</summary>
public sealed class ApiCaller
{
    ApiScope? scope;

    public ApiScope Scope
    {
        get => scope ?? throw new InvalidOperationException("the /v1 access check did not run for this request");
        set => scope = value;
    }
}
