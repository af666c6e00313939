using System.Text;
using System.Text.Json;
using CohortSync.Host.Api;
using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.OperatorConsole;

/// <summary>One user of a project: their profile, the cohorts they are in now, and every time they entered or exited one.</summary>
static class MemberPage
{
    const int PageSize = 50;

    public static string Href(string projectId, string distinctId) => $"/console/users/{Html.Url(projectId)}/{Html.Url(distinctId)}";

    public static async Task<IResult> RenderAsync(
        HttpContext http, string projectId, string distinctId, string? after, UserQueries users, ApiCaller caller, CancellationToken ct)
    {
        var json = $"/v1/users/{Html.Url(projectId)}/{Html.Url(distinctId)}";
        var user = caller.Scope.Includes(projectId) ? await users.UserAsync(projectId, distinctId, ct) : null;
        if (user is null)
            return ConsoleLayout.Page(http, "No such user", json,
                $"""<p class="error">No user <span class="id">{Html.Text(distinctId)}</span> in project {Html.Text(projectId)}.</p><p><a href="/console">All cohorts</a></p>""",
                StatusCodes.Status404NotFound);

        var before = after is not null && Cursor.TryDecode(after, out long position) ? position : long.MaxValue;
        var history = await users.HistoryAsync(projectId, distinctId, before, PageSize + 1, ct);
        var now = DateTime.UtcNow;
        var html = new StringBuilder($"""<p class="muted id">project {Html.Text(projectId)} · user {Html.Text(distinctId)}</p>""");
        html.Append(Profile(user.Profile, now));
        html.Append("""<h2 id="cohorts">Cohorts they are in now</h2>""");
        if (user.Cohorts.Count == 0)
            html.Append("""<p data-cohorts="none">None.</p>""");
        else
        {
            html.Append("""<ul id="user-cohorts">""");
            foreach (var c in user.Cohorts)
                html.Append($"""<li data-cohort="{Html.Attr(c.CohortId)}"><a href="{Html.Attr(CohortPage.Href(projectId, c.CohortId))}">{Html.Text(c.Name ?? c.CohortId)}</a> <span class="muted id">{Html.Text(c.CohortId)}</span>, since {Html.Time(c.EnteredAt, now)}</li>""");
            html.Append("</ul>");
        }

        html.Append($"""
            <h2 id="history">History across cohorts</h2>
            <p class="muted">Every time they entered or exited a cohort of project {Html.Text(projectId)}, newest first, as far back as the feed keeps transitions; the same in <a href="{Html.Attr(json)}/history">/v1</a>.</p>
            <div class="scroll"><table id="history-table">
            <thead><tr><th scope="col">Recorded</th><th scope="col">Change</th><th scope="col">Cohort</th><th scope="col">Session</th></tr></thead>
            <tbody>
            """);
        foreach (var (_, t) in history.Take(PageSize))
            html.Append($"""
                <tr data-kind="{Html.Attr(t.Kind)}" data-cohort="{Html.Attr(t.CohortId)}">
                <td>{Html.Time(t.RecordedAt, now)}</td>
                <td>{(t.Kind == Database.StorageNames.Entered ? "+ entered" : "− exited")}</td>
                <td><a href="{Html.Attr(CohortPage.Href(projectId, t.CohortId))}">{Html.Text(t.CohortName ?? t.CohortId)}</a></td>
                <td class="id">{Html.Text(t.SessionId)}</td>
                </tr>
                """);
        html.Append("</tbody></table></div>");
        if (history.Count == 0)
            html.Append("""<p class="notice">No transition of this user is kept.</p>""");
        if (history.Count > PageSize)
            html.Append($"""<p><a href="{Html.Attr(Href(projectId, distinctId))}?after={Html.Url(Cursor.Encode(history[PageSize - 1].Position))}#history">Older transitions</a></p>""");
        return ConsoleLayout.Page(http, user.DistinctId, json, html.ToString());
    }

    static string Profile(ProfileView p, DateTime now)
    {
        var html = new StringBuilder("""<h2 id="profile">Profile</h2><dl class="profile">""");
        void Field(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
                html.Append($"""<dt>{Html.Text(name)}</dt><dd>{Html.Text(value)}</dd>""");
        }
        Field("Email", p.Email);
        Field("First name", p.FirstName);
        Field("Last name", p.LastName);
        Field("Phone", p.PhoneNumber);
        if (p.Properties.ValueKind == JsonValueKind.Object)
            foreach (var property in p.Properties.EnumerateObject())
                Field(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText());
        html.Append($"""<dt>Updated</dt><dd>{Html.Time(p.UpdatedAt, now)}</dd></dl>""");
        return html.ToString();
    }
}
