using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

[Collection(HostCollection.Name)]
public sealed class FullSyncPagingTests(HostFixture fx)
{
    [Fact]
    public async Task Full_sync_of_2500_members_out_of_order_with_a_duplicate_commits_once_and_pages_through()
    {
        var c = TestCohort.New("big");
        var client = fx.Client;
        var ids = Users.Ids("user-", 2_500);
        var pages = c.FullSync("full-1", ids, 1_000);
        Assert.Equal([1_000, 1_000, 500], pages.Select(p => p.Members.Length));

        await client.PostOkAsync(pages[2]);
        await client.PostOkAsync(pages[0]);
        await client.PostOkAsync(pages[0]); // a duplicate delivery

        // Two of three pages in: nothing is visible, nothing has changed.
        Assert.Empty(await client.GetAllMembersAsync(c));
        Assert.Empty(await Db.TransitionsAsync(fx.ConnectionString, c));
        Assert.Equal("open", Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c)).state);

        await client.PostOkAsync(pages[1]);

        var sizes = new List<int>();
        var members = await client.TryGetAllMembersAsync(c, limit: 1_000, pageSizes: sizes);
        Assert.NotNull(members);
        Assert.Equal([1_000, 1_000, 500], sizes);
        Assert.Equal(ids, members.Select(m => m.DistinctId));

        var transitions = await Db.TransitionsAsync(fx.ConnectionString, c);
        Assert.Equal(2_500, transitions.Count);
        Assert.All(transitions, t => Assert.Equal(("full-1", "entered"), (t.session_id, t.kind)));
        Assert.Equal(ids, transitions.Select(t => t.distinct_id).Order(StringComparer.Ordinal));

        var session = Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c));
        Assert.Equal(("committed", 2_500, 0), (session.state, session.entered_count, session.exited_count));
        Assert.Equal(0, await Db.StagedMembersAsync(fx.ConnectionString, c, "full-1"));

        // Redelivering any page of the committed session changes nothing.
        await client.PostOkAsync(pages[1]);
        Assert.Equal(2_500, (await Db.TransitionsAsync(fx.ConnectionString, c)).Count);
    }

    [Fact]
    public async Task Members_endpoint_pages_with_small_limits_and_rejects_bad_queries()
    {
        var c = TestCohort.New("paging");
        var ids = Users.Ids("m", 7);
        await fx.Client.PostOkAsync(c.Members("s", 1, 1, ids));

        var sizes = new List<int>();
        var members = await fx.Client.TryGetAllMembersAsync(c, limit: 3, pageSizes: sizes);
        Assert.Equal([3, 3, 1], sizes);
        Assert.Equal(ids, members!.Select(m => m.DistinctId));

        // A listing that ends exactly on a page boundary still ends with next = null.
        sizes.Clear();
        await fx.Client.TryGetAllMembersAsync(c, limit: 7, pageSizes: sizes);
        Assert.Equal([7], sizes);

        var unknown = TestCohort.New("never-seen");
        Assert.Null(await fx.Client.TryGetAllMembersAsync(unknown));

        var basePath = $"/v1/cohorts/{c.Project}/{c.Cohort}/members";
        Assert.Equal(400, (int)(await fx.Client.GetAsync($"{basePath}?limit=0")).StatusCode);
        Assert.Equal(400, (int)(await fx.Client.GetAsync($"{basePath}?limit=1001")).StatusCode);
        Assert.Equal(400, (int)(await fx.Client.GetAsync($"{basePath}?after=%25%25")).StatusCode);
    }

    [Fact]
    public async Task Cursor_paging_handles_distinct_ids_of_any_text()
    {
        var c = TestCohort.New("ids");
        string[] ids =
        [
            "$device:0192f4", "123", "Zed", "a b", "a\"quote", "a/slash", "a?x=1&y=2", "a%20b", "user@example.com",
            "é", "ü-umlaut", "日本語", "😀", "x".PadRight(1024, 'x'),
        ];
        await fx.Client.PostOkAsync(c.Members("s", 1, 1, ids));
        foreach (var limit in new[] { 1, 2, 5, 1000 })
        {
            var listed = await fx.Client.MemberIdsAsync(c, limit);
            Assert.Equal(ids.Order(StringComparer.Ordinal), listed);
        }
    }
}
