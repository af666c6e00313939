using CohortSync.Host.Security;

namespace CohortSync.Host.Api;

/// <summary>The scope of the request being served, set by <see cref="ApiAccess"/> before any /v1 handler runs.</summary>
public sealed class ApiCaller
{
    ProjectScope? scope;

    public ProjectScope Scope
    {
        get => scope ?? throw new InvalidOperationException("the /v1 access check did not run for this request");
        set => scope = value;
    }
}
