using CohortSync.Domain;
using CohortSync.Mixpanel;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>Members as Mixpanel exports them.</summary>
public static class Users
{
    /// <summary>A member; <paramref name="properties"/> is a JSON object of the extra exported properties.</summary>
    public static Member M(
        string distinctId, string? email = null, string? firstName = null, string? lastName = null,
        string? phone = null, string properties = "{}") =>
        new(DistinctId.Of(distinctId), email, firstName, lastName, phone, properties);

    public static Member[] Ms(params string[] distinctIds) => distinctIds.Select(id => M(id)).ToArray();

    /// <summary><paramref name="count"/> ids <c>{prefix}00000</c>... in id order.</summary>
    public static string[] Ids(string prefix, int count, int from = 0) =>
        Enumerable.Range(from, count).Select(i => $"{prefix}{i:D5}").ToArray();
}

/// <summary>A cohort of its own (unique project and cohort ids), and the pages Mixpanel would send for it.</summary>
public sealed record TestCohort(string Project, string Cohort)
{
    public static TestCohort New(string label) =>
        new($"p-{label}-{Guid.NewGuid().ToString("N")[..10]}", $"c-{Guid.NewGuid().ToString("N")[..10]}");

    /// <summary>The oracle's map key for this cohort (F#'s <c>ProjectId * CohortId</c>; its functions take the two as arguments).</summary>
    public Tuple<ProjectId, CohortId> Key => Tuple.Create(ProjectKey, CohortKey);

    public ProjectId ProjectKey => ProjectId.Of(Project);
    public CohortId CohortKey => CohortId.Of(Cohort);

    public WebhookPage Page(WebhookAction action, string session, int pageCount, int totalPages, IEnumerable<Member> members) =>
        new(action, ProjectId.Of(Project), CohortId.Of(Cohort),
            $"cohort {Cohort}", "integration test cohort",
            SessionId.Of(session), new PageInfo(totalPages, pageCount), members.ToArray());

    public WebhookPage Members(string session, int pageCount, int totalPages, params string[] ids) =>
        Page(WebhookAction.Members, session, pageCount, totalPages, Users.Ms(ids));

    public WebhookPage Add(string session, int pageCount, int totalPages, params string[] ids) =>
        Page(WebhookAction.AddMembers, session, pageCount, totalPages, Users.Ms(ids));

    public WebhookPage Remove(string session, int pageCount, int totalPages, params string[] ids) =>
        Page(WebhookAction.RemoveMembers, session, pageCount, totalPages, Users.Ms(ids));

    /// <summary>The pages of one action, <paramref name="pageSize"/> members a page (one empty page for none).</summary>
    public IReadOnlyList<WebhookPage> Pages(WebhookAction action, string session, IReadOnlyList<Member> members, int pageSize)
    {
        var chunks = members.Chunk(pageSize).ToList();
        if (chunks.Count == 0)
            chunks.Add([]);
        return chunks.Select((chunk, i) => Page(action, session, i + 1, chunks.Count, chunk)).ToList();
    }

    public IReadOnlyList<WebhookPage> FullSync(string session, IEnumerable<string> ids, int pageSize) =>
        Pages(WebhookAction.Members, session, Users.Ms(ids.ToArray()), pageSize);
}

public static class PageExtensions
{
    public static byte[] Body(this WebhookPage page) => PageBody.Render(page);

    public static string Describe(this WebhookPage page) =>
        $"{page.Action.WireName} {page.SessionId.Value} {page.PageInfo.PageCount}/{page.PageInfo.TotalPages} ({page.Members.Length} members)";
}
