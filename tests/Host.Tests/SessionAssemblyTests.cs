using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>Sessions commit whole: partial delivery, superseding, and restarts of an action.</summary>
[Collection(HostCollection.Name)]
public sealed class SessionAssemblyTests(HostFixture fx)
{
    [Fact]
    public async Task Half_delivered_diff_session_is_invisible_until_its_last_page()
    {
        var c = TestCohort.New("half");
        var client = fx.Client;
        await client.PostOkAsync(c.Members("full", 1, 1, "X", "Y"));
        Assert.Equal(["X", "Y"], await client.MemberIdsAsync(c));
        var before = await Db.TransitionsAsync(fx.ConnectionString, c);

        // add_members in 2 pages, remove_members in 1: the session commits on the third page, whatever the order.
        var pages = new[] { c.Add("diff", 2, 2, "B"), c.Remove("diff", 1, 1, "X"), c.Add("diff", 1, 2, "A") };
        foreach (var page in pages[..^1])
        {
            await client.PostOkAsync(page);
            Assert.Equal(["X", "Y"], await client.MemberIdsAsync(c));
            Assert.Equal(before, await Db.TransitionsAsync(fx.ConnectionString, c));
            Assert.Equal("open", (await Db.SessionsAsync(fx.ConnectionString, c)).Single(s => s.session_id == "diff").state);
        }

        await client.PostOkAsync(pages[^1]);
        Assert.Equal(["A", "B", "Y"], await client.MemberIdsAsync(c));
        Assert.Equal(
            new[] { "diff:entered:A", "diff:entered:B", "diff:exited:X" },
            (await Db.TransitionsAsync(fx.ConnectionString, c)).Where(t => t.session_id == "diff").Select(t => t.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal("committed", (await Db.SessionsAsync(fx.ConnectionString, c)).Single(s => s.session_id == "diff").state);
    }

    [Fact]
    public async Task A_user_both_added_and_removed_in_one_diff_ends_absent()
    {
        var c = TestCohort.New("both");
        await fx.Client.PostOkAsync(c.Members("full", 1, 1, "K"));
        await fx.Client.PostOkAsync(c.Add("d", 1, 1, "N", "K"));
        await fx.Client.PostOkAsync(c.Remove("d", 1, 1, "N", "K"));
        Assert.Empty(await fx.Client.MemberIdsAsync(c));
        Assert.Equal(
            new[] { "d:exited:K" },
            (await Db.TransitionsAsync(fx.ConnectionString, c)).Where(t => t.session_id == "d").Select(t => t.ToString()));
    }

    [Fact]
    public async Task Newer_session_supersedes_a_partly_delivered_one_whose_late_pages_are_acknowledged_and_ignored()
    {
        var c = TestCohort.New("supersede");
        var client = fx.Client;
        var s1 = new[] { c.Members("s1", 1, 3, "a1", "a2"), c.Members("s1", 2, 3, "a3"), c.Members("s1", 3, 3, "a4") };
        await client.PostOkAsync(s1[0]);
        await client.PostOkAsync(s1[1]);

        await client.PostOkAsync(c.Members("s2", 2, 2, "b2"));
        await client.PostOkAsync(c.Members("s2", 1, 2, "b1", "a1"));
        Assert.Equal(["a1", "b1", "b2"], await client.MemberIdsAsync(c));

        // Session 1's remaining page, and a repeat of one it had delivered: acknowledged, and ignored.
        var late = await client.PostOkAsync(s1[2]);
        Assert.Equal("success", late.Outcome);
        await client.PostOkAsync(s1[0]);
        Assert.Equal(["a1", "b1", "b2"], await client.MemberIdsAsync(c));

        var sessions = await Db.SessionsAsync(fx.ConnectionString, c);
        Assert.Equal(
            new[] { ("s1", "superseded", (string?)"s2"), ("s2", "committed", null) },
            sessions.Select(s => (s.session_id, s.state, s.superseded_by_id)));
        Assert.Null(sessions[0].committed_at);
        Assert.Equal(0, await Db.StagedMembersAsync(fx.ConnectionString, c, "s1"));
        Assert.Equal(
            new[] { "s2:entered:a1", "s2:entered:b1", "s2:entered:b2" },
            (await Db.TransitionsAsync(fx.ConnectionString, c)).Select(t => t.ToString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Changed_total_pages_restarts_the_action_and_drops_pages_of_the_old_total()
    {
        var c = TestCohort.New("restart");
        var client = fx.Client;

        // A full sync begun with 3 pages, then sent again as 2 pages (same session).
        await client.PostOkAsync(c.Members("s1", 1, 3, "old1"));
        await client.PostOkAsync(c.Members("s1", 2, 3, "old2"));
        await client.PostOkAsync(c.Members("s1", 1, 2, "new1"));
        Assert.Empty(await client.GetAllMembersAsync(c));
        // Page 2 of 2 completes the restarted action; old1 and old2 are gone.
        await client.PostOkAsync(c.Members("s1", 2, 2, "new2"));
        Assert.Equal(["new1", "new2"], await client.MemberIdsAsync(c));
        Assert.Equal(
            new[] { "s1:entered:new1", "s1:entered:new2" },
            (await Db.TransitionsAsync(fx.ConnectionString, c)).Select(t => t.ToString()).Order(StringComparer.Ordinal));

        // In a diff, a restart of add_members leaves the remove_members pages alone.
        await client.PostOkAsync(c.Remove("d", 1, 1, "new1"));
        await client.PostOkAsync(c.Add("d", 1, 2, "stale"));
        await client.PostOkAsync(c.Add("d", 1, 1, "fresh"));
        Assert.Equal(["fresh", "new2"], await client.MemberIdsAsync(c));
        Assert.Equal(0, await Db.StagedMembersAsync(fx.ConnectionString, c, "d"));
    }

    [Fact]
    public async Task Restart_to_a_smaller_total_does_not_count_pages_of_the_old_total()
    {
        var c = TestCohort.New("restart-small");
        var client = fx.Client;
        await client.PostOkAsync(c.Members("s", 1, 3, "x1"));
        await client.PostOkAsync(c.Members("s", 3, 3, "x3"));
        // Restart with 2 pages: page 2 alone must not commit (old pages 1 and 3 were dropped).
        await client.PostOkAsync(c.Members("s", 2, 2, "y2"));
        Assert.Empty(await client.GetAllMembersAsync(c));
        Assert.Equal("open", Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c)).state);
        await client.PostOkAsync(c.Members("s", 1, 2, "y1"));
        Assert.Equal(["y1", "y2"], await client.MemberIdsAsync(c));
    }

    [Fact]
    public async Task Page_with_no_members_list_is_an_empty_page()
    {
        var c = TestCohort.New("nolist");
        await fx.Client.PostOkAsync(c.Members("s0", 1, 1, "u1", "u2"));
        string Body(string action) =>
            $$$"""{"action":"{{{action}}}","parameters":{"mixpanel_project_id":"{{{c.Project}}}","mixpanel_cohort_id":"{{{c.Cohort}}}","mixpanel_session_id":"s1","page_info":{"total_pages":1,"page_count":1} } }""";
        Assert.Equal(200, (await fx.Client.PostRawAsync(Body("add_members"))).Code);
        Assert.Equal(["u1", "u2"], await fx.Client.MemberIdsAsync(c));
        Assert.Equal(200, (await fx.Client.PostRawAsync(Body("remove_members"))).Code);
        Assert.Equal(["u1", "u2"], await fx.Client.MemberIdsAsync(c));
        Assert.Equal("committed", (await Db.SessionsAsync(fx.ConnectionString, c)).Single(s => s.session_id == "s1").state);
    }

    [Fact]
    public async Task Numeric_ids_are_accepted_as_their_text()
    {
        var c = new TestCohort($"{Random.Shared.Next(100_000, 999_999)}{Random.Shared.Next(100_000, 999_999)}", "4242");
        var body =
            $$$"""{"action":"members","parameters":{"mixpanel_project_id":{{{c.Project}}},"mixpanel_cohort_id":4242,"mixpanel_session_id":77,"page_info":{"total_pages":1,"page_count":1},"members":[{"mixpanel_distinct_id":123,"email":"n@example.com"}]}}""";
        var reply = await fx.Client.PostRawAsync(body);
        Assert.Equal((200, "members"), (reply.Code, reply.Action));
        var member = Assert.Single(await fx.Client.GetAllMembersAsync(c));
        Assert.Equal(("123", "n@example.com"), (member.DistinctId, member.Email));
        Assert.Equal("77", Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c)).session_id);
    }
}
