using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;
using static CohortSync.Host.Tests.Infrastructure.ApiClient;
using static CohortSync.Host.Tests.Infrastructure.Users;

namespace CohortSync.Host.Tests;

/// <summary>The cohort resources of the read API: list, one cohort, one member, sync history.</summary>
[Collection(HostCollection.Name)]
public sealed class CohortQueryTests(HostFixture fx)
{
    static string CohortPath(TestCohort c, params string[] rest) => PathOf(["v1", "cohorts", c.Project, c.Cohort, .. rest]);

    [Fact]
    public async Task A_cohort_shows_its_name_a_member_count_kept_at_commit_and_its_latest_session()
    {
        var c = TestCohort.New("detail");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b", "c"));

        var first = await fx.Client.GetOkAsync(CohortPath(c));
        Assert.Equal((c.Project, c.Cohort, $"cohort {c.Cohort}", "integration test cohort", 3L),
            (first.Text("projectId"), first.Text("cohortId"), first.Text("name"), first.Text("description"), first.GetProperty("memberCount").GetInt64()));
        var committedAt = first.GetProperty("lastCommittedAt").GetDateTime();
        var last = first.GetProperty("lastSession");
        Assert.Equal(("s1", "full", "committed"), (last.Text("sessionId"), last.Text("kind"), last.Text("state")));
        Assert.Equal(committedAt, last.GetProperty("committedAt").GetDateTime());

        // A diff: d and e enter, a leaves, x was never in (nothing), b is re-sent (nothing).
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1, "d", "e", "b"));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "a", "x"));
        var second = await fx.Client.GetOkAsync(CohortPath(c));
        Assert.Equal(4, second.GetProperty("memberCount").GetInt64());
        Assert.Equal(4, (await fx.Client.MemberIdsAsync(c)).Length);

        // A newer session under way is the latest; the count is still the last commit's.
        await fx.Client.PostOkAsync(c.Members("s3", 1, 2, "b"));
        var third = await fx.Client.GetOkAsync(CohortPath(c));
        Assert.Equal(4, third.GetProperty("memberCount").GetInt64());
        Assert.Equal(("s3", "open", JsonValueKind.Null),
            (third.GetProperty("lastSession").Text("sessionId"), third.GetProperty("lastSession").Text("state"),
             third.GetProperty("lastSession").GetProperty("committedAt").ValueKind));

        // Its commit empties all but b: the count follows.
        await fx.Client.PostOkAsync(c.Members("s3", 2, 2));
        Assert.Equal(1, (await fx.Client.GetOkAsync(CohortPath(c))).GetProperty("memberCount").GetInt64());
    }

    [Fact]
    public async Task A_cohort_whose_first_session_is_under_way_is_listed_without_members_and_an_unknown_one_is_404()
    {
        var c = TestCohort.New("first-open");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 2, "a"));

        var cohort = await fx.Client.GetOkAsync(CohortPath(c));
        Assert.Equal(0, cohort.GetProperty("memberCount").GetInt64());
        Assert.Equal(JsonValueKind.Null, cohort.GetProperty("lastCommittedAt").ValueKind);
        Assert.Equal("open", cohort.GetProperty("lastSession").Text("state"));
        // Its membership is not known before a commit.
        Assert.Equal($"no cohort {c.Cohort} in project {c.Project}", await fx.Client.GetNotFoundAsync(CohortPath(c, "members")));

        var unknown = TestCohort.New("never-seen");
        Assert.Equal($"no cohort {unknown.Cohort} in project {unknown.Project}", await fx.Client.GetNotFoundAsync(CohortPath(unknown)));
        await fx.Client.GetNotFoundAsync(CohortPath(unknown, "sessions"));
        await fx.Client.GetNotFoundAsync(CohortPath(unknown, "members", "a"));
    }

    [Fact]
    public async Task The_cohort_list_pages_to_the_end_in_id_order()
    {
        var p = TestCohort.New("list");
        var cohorts = new[] { p with { Cohort = "c2" }, p with { Cohort = "c1" }, p with { Cohort = "c10" } };
        foreach (var c in cohorts)
            await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));

        var sizes = new List<int>();
        var listed = await fx.Client.GetAllPagesAsync("/v1/cohorts", "cohorts", limit: 2, pageSizes: sizes);
        var keys = listed.Select(c => (c.Text("projectId"), c.Text("cohortId"))).ToList();
        Assert.Equal(keys.OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal), keys);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(sizes.SkipLast(1), s => Assert.Equal(2, s));

        var ours = listed.Where(c => c.Text("projectId") == p.Project).ToList();
        Assert.Equal(["c1", "c10", "c2"], ours.Select(c => c.Text("cohortId")));
        Assert.All(ours, c => Assert.Equal(1, c.GetProperty("memberCount").GetInt64()));

        Assert.Equal(400, (await fx.Client.GetApiAsync("/v1/cohorts?after=bm90LWEtcGFpcg")).Code);
    }

    /// <summary>Every list refuses a bad limit with the problem body, a malformed one included.</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("abc")]
    [InlineData("99999999999")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task A_bad_limit_is_refused_with_400_and_a_message(string limit)
    {
        var c = TestCohort.New("limit");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        foreach (var list in new[] { "/v1/cohorts", CohortPath(c, "members"), CohortPath(c, "sessions"), "/v1/rejections", "/v1/events" })
        {
            var reply = await fx.Client.GetApiAsync($"{list}?limit={limit}");
            Assert.Equal((400, "limit must be a whole number between 1 and 1000"), (reply.Code, reply.Error));
        }
        // Empty is left out: the default page size.
        Assert.Equal(200, (await fx.Client.GetApiAsync("/v1/cohorts?limit=")).Code);
    }

    [Fact]
    public async Task A_member_shows_since_when_and_the_profile_and_a_non_member_is_404()
    {
        var c = TestCohort.New("member");
        string[] ids = ["a/slash", "percent%2Fid", "é ü", "u?x=1&y=2"];
        await fx.Client.PostOkAsync(c.Page(CohortSync.Domain.WebhookAction.Members, "s1", 1, 1,
            [M("ann", "ann@example.com", "Ann", "Lee", "555", """{"plan":"pro"}"""), M("bob"), .. ids.Select(id => M(id))]));
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "bob"));

        var ann = await fx.Client.GetOkAsync(CohortPath(c, "members", "ann"));
        Assert.Equal((c.Project, c.Cohort, "ann", true, "s1"),
            (ann.Text("projectId"), ann.Text("cohortId"), ann.Text("distinctId"), ann.GetProperty("member").GetBoolean(), ann.Text("enteredInSession")));
        var profile = ann.GetProperty("profile");
        Assert.Equal(("ann@example.com", "Ann", "Lee", "555", "pro"),
            (profile.Text("email"), profile.Text("firstName"), profile.Text("lastName"), profile.Text("phoneNumber"),
             profile.GetProperty("properties").Text("plan")));
        Assert.True(ann.GetProperty("enteredAt").GetDateTime() <= profile.GetProperty("updatedAt").GetDateTime().AddSeconds(1));

        // Ids of any text, sent percent-encoded, are found exactly.
        foreach (var id in ids)
            Assert.Equal(id, (await fx.Client.GetOkAsync(CohortPath(c, "members", id))).Text("distinctId"));

        Assert.Equal($"bob is not a member of cohort {c.Cohort} in project {c.Project}",
            await fx.Client.GetNotFoundAsync(CohortPath(c, "members", "bob")));
        await fx.Client.GetNotFoundAsync(CohortPath(c, "members", "nobody"));
        await fx.Client.GetNotFoundAsync(CohortPath(c, "members", "a"));
    }

    /// <summary>PostgreSQL text cannot hold NUL, so no id holds one: Kestrel refuses such a path before any handler runs.</summary>
    [Theory]
    [InlineData("/v1/cohorts/p%00/c")]
    [InlineData("/v1/cohorts/p/c%00/members")]
    [InlineData("/v1/cohorts/p/c/members/u%00")]
    [InlineData("/v1/users/p/u%00")]
    public async Task An_id_with_NUL_in_a_path_is_refused_with_400(string url)
    {
        using var reply = await fx.Client.GetAsync(url);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, reply.StatusCode);
    }

    /// <summary>A cursor whose key holds NUL was not issued here (no id holds one): 400, not a fault in the query.</summary>
    [Fact]
    public async Task A_cursor_with_NUL_in_its_key_is_refused_with_400()
    {
        var c = TestCohort.New("nul-cursor");
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));
        foreach (var url in new[]
                 {
                     CohortPath(c, "members") + "?after=AA",          // "\0"
                     "/v1/cohorts?after=WyJcdTAwMDAiLCJjIl0",         // ["\u0000","c"]
                 })
        {
            var reply = await fx.Client.GetApiAsync(url);
            Assert.Equal((400, "after is not a cursor this service issued"), (reply.Code, reply.Error));
        }
    }

    [Fact]
    public async Task Sessions_list_the_sync_history_newest_first_with_pages_per_action_and_the_commit_counts()
    {
        var c = TestCohort.New("history");
        foreach (var page in c.FullSync("s1", Ids("u", 5), 2))
            await fx.Client.PostOkAsync(page);
        await fx.Client.PostOkAsync(c.Add("s2", 1, 1, "new"));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "u00000", "u00001"));
        await fx.Client.PostOkAsync(c.Add("s3", 1, 2, "late"));          // superseded by s4 before it completes
        await fx.Client.PostOkAsync(c.Members("s4", 2, 3, "u00002"));    // under way

        var sizes = new List<int>();
        var sessions = await fx.Client.GetAllPagesAsync(CohortPath(c, "sessions"), "sessions", limit: 3, pageSizes: sizes);
        Assert.Equal([3, 1], sizes);
        Assert.Equal(
            new[] { ("s4", "full", "open"), ("s3", "diff", "superseded"), ("s2", "diff", "committed"), ("s1", "full", "committed") },
            sessions.Select(s => (s.Text("sessionId"), s.Text("kind"), s.Text("state"))));

        static string Actions(JsonElement s) => string.Join(", ", s.GetProperty("actions").EnumerateArray()
            .Select(a => $"{a.Text("action")} {a.GetProperty("pagesReceived").GetInt32()}/{a.GetProperty("totalPages").GetInt32()}"));
        static string Counts(JsonElement s) => $"{s.GetProperty("entered")}/{s.GetProperty("exited")}";
        Assert.Equal(["members 1/3", "add_members 1/2", "add_members 1/1, remove_members 1/1", "members 3/3"], sessions.Select(Actions));
        Assert.Equal(["/", "/", "1/2", "5/0"], sessions.Select(Counts));
        Assert.Equal("s4", sessions[1].Text("supersededBy"));
        Assert.All(sessions, s => Assert.True(s.GetProperty("firstPageAt").GetDateTime() <= s.GetProperty("lastPageAt").GetDateTime()));
        Assert.Equal([false, false, true, true], sessions.Select(s => s.GetProperty("committedAt").ValueKind == JsonValueKind.String));

        Assert.Equal(400, (await fx.Client.GetApiAsync(CohortPath(c, "sessions") + "?after=LTE")).Code);
    }
}
