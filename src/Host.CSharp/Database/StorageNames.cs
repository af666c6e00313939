using CohortSync.Domain;
using static CohortSync.Domain.SessionAssembly;

namespace CohortSync.Host.Database;

/// <summary>
/// The names the domain gives its statuses and actions, as SQL writes them: the domain owns the words,
/// so a statement interpolates these rather than spelling them again.
/// </summary>
static class StorageNames
{
    public static readonly string Open = SessionStatus.Open.ToString();
    public static readonly string Sealed = SessionStatus.Sealed.ToString();
    public static readonly string Committed = SessionStatus.Committed.ToString();
    public static readonly string Superseded = SessionStatus.Superseded.ToString();
    public static readonly string Members = WebhookAction.Members.WireName;
    public static readonly string AddMembers = WebhookAction.AddMembers.WireName;
    public static readonly string RemoveMembers = WebhookAction.RemoveMembers.WireName;
    public static readonly string Entered = TransitionKind.Entered.ToString();
    public static readonly string Exited = TransitionKind.Exited.ToString();
}
