namespace CohortSync.Host.Security;

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
