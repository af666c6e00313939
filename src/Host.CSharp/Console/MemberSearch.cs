using System.Text;
using CohortSync.Host.Api;
using CohortSync.Host.Cohorts;
using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.OperatorConsole;

/// <summary>Finds a user by distinct id or email, and shows their membership here and their cohorts in the project.</summary>
static class MemberSearch
{
    public static async Task<string> RenderAsync(HttpContext http, string projectId, string cohortId, string? member, DateTime now, CancellationToken ct)
    {
        var html = new StringBuilder($"""
            <h2 id="member">Find a member</h2>
            <form class="filters" method="get" action="#member" role="search">
            <label for="member-query">Distinct id or email <input id="member-query" name="member" value="{Html.Attr(member)}" required></label>
            <button type="submit">Find</button>
            </form>
            """);
        if (string.IsNullOrWhiteSpace(member))
            return html.ToString();

        var services = http.RequestServices;
        var caller = services.GetRequiredService<ApiCaller>();
        if (!caller.Scope.Includes(projectId))
            return html.ToString();
        var query = member.Trim();
        var ids = new List<string> { query };
        if (query.Contains('@'))
            ids.AddRange(await services.GetRequiredService<ConsoleQueries>().DistinctIdsByEmailAsync(projectId, query, ct));

        var members = services.GetRequiredService<MemberQueries>();
        var users = services.GetRequiredService<UserQueries>();
        var found = false;
        foreach (var id in ids.Distinct())
        {
            var user = await users.UserAsync(projectId, id, ct);
            if (user is null)
                continue;
            found = true;
            var (_, membership) = await members.MembershipAsync(projectId, cohortId, id, ct);
            html.Append(UserHtml(projectId, cohortId, user, membership, now));
        }
        if (!found)
            html.Append($"""<p role="status" data-search-result="none">No user <span class="id">{Html.Text(query)}</span> in project {Html.Text(projectId)}.</p>""");
        return html.ToString();
    }

    static string UserHtml(string projectId, string cohortId, UserView user, MembershipView? membership, DateTime now)
    {
        var p = user.Profile;
        var name = string.Join(" ", new[] { p.FirstName, p.LastName }.Where(n => !string.IsNullOrEmpty(n)));
        var here = membership is null
            ? "is <strong>not</strong> a member of this cohort"
            : $"""is a member of this cohort since {Html.Time(membership.EnteredAt, now)}{(membership.EnteredInSession is { } s ? $", added by session <span class=\"id\">{Html.Text(s)}</span>" : "")}""";
        var html = new StringBuilder($"""
            <section class="card" data-search-result="{Html.Attr(user.DistinctId)}" aria-label="User {Html.Attr(user.DistinctId)}">
            <p><span class="id">{Html.Text(user.DistinctId)}</span>{(name == "" ? "" : " · " + Html.Text(name))}{(p.Email is { } e ? " · " + Html.Text(e) : "")}
            {here}. <a href="{Html.Attr(MemberPage.Href(projectId, user.DistinctId))}">Profile and history across cohorts</a> · <a href="/v1/users/{Html.Url(projectId)}/{Html.Url(user.DistinctId)}">JSON in /v1</a></p>
            <p>Cohorts of project {Html.Text(projectId)} they are in now:</p><ul>
            """);
        foreach (var c in user.Cohorts)
            html.Append($"""<li><a href="{Html.Attr(CohortPage.Href(projectId, c.CohortId))}">{Html.Text(c.Name ?? c.CohortId)}</a>{(c.CohortId == cohortId ? " (this one)" : "")}, since {Html.Time(c.EnteredAt, now)}</li>""");
        if (user.Cohorts.Count == 0)
            html.Append("<li>none</li>");
        return html.Append("</ul></section>").ToString();
    }
}
