using System.Text.Json;

namespace CohortSync.Host.Security;

/// <summary>
/// The Mixpanel projects a credential reaches: every project, or some. A webhook credential syncs the
/// projects of its scope, an API key reads them.
/// </summary>
public sealed class ProjectScope
{
    readonly HashSet<string>? projects;

    ProjectScope(HashSet<string>? projects) => this.projects = projects;

    public static readonly ProjectScope EveryProject = new(null);

    /// <summary>
    /// Empty, or containing <c>*</c>, means every project. Blank entries are refused at start-up
    /// (<see cref="ProjectLists"/>), not dropped here.
    /// </summary>
    public static ProjectScope For(IEnumerable<string> projects)
    {
        var set = projects.ToHashSet(StringComparer.Ordinal);
        return set.Count == 0 || set.Contains("*") ? EveryProject : new ProjectScope(set);
    }

    public bool Includes(string projectId) => projects is null || projects.Contains(projectId);

    /// <summary>The projects to filter on in SQL; null when every project is included.</summary>
    public string[]? Projects => projects?.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A stable name for this set of projects. Feed consumers are stored under it, so a key only ever
    /// reads or moves the consumers of keys that reach exactly the same projects.
    /// </summary>
    public string Name => projects is null ? "*" : JsonSerializer.Serialize(Projects);
}
