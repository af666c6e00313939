using System.Net;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>Named consumers keep a worker's place in the feed across restarts.</summary>
[Collection(HostCollection.Name)]
public sealed class ConsumerTests(HostFixture fx)
{
    static string CursorPath(string name) => $"/v1/consumers/{Uri.EscapeDataString(name)}/cursor";

    static string Body(string cursor) => $$"""{"cursor":"{{cursor}}"}""";

    [Fact]
    public async Task A_restarted_worker_resumes_from_its_stored_cursor_and_sees_only_what_came_after()
    {
        var c = TestCohort.New("worker");
        var query = $"projectId={c.Project}";
        var name = $"welcome-{Guid.NewGuid():N}";
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));

        Assert.Equal($"no consumer {name}: it has stored no cursor yet", await fx.Client.GetNotFoundAsync(CursorPath(name)));

        // The worker acts on a, then stores a's cursor, then stops.
        var (first, _) = await fx.Client.ReadAsync(query, null, 1);
        var a = Assert.Single(first);
        Assert.Equal("a", a.DistinctId);
        var stored = await fx.Client.PutApiAsync(CursorPath(name), Body(a.Cursor));
        Assert.Equal(HttpStatusCode.OK, stored.Status);
        Assert.Equal((name, a.Cursor), (stored.Body.Text("name"), stored.Body.Text("cursor")));

        await fx.Client.PostOkAsync(c.Add("s2", 1, 1, "c"));
        await fx.Client.PostOkAsync(c.Remove("s2", 1, 1, "a"));

        // Another process starts and resumes: b, then s2's changes; a is not sent again.
        await using var restarted = await fx.StartHostAsync();
        var resumed = await restarted.Client.GetOkAsync(CursorPath(name));
        Assert.Equal(a.Cursor, resumed.Text("cursor"));
        Assert.True(resumed.GetProperty("updatedAt").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
        var (rest, next) = await restarted.Client.ReadToEndAsync(query, resumed.Text("cursor"), limit: 2);
        Assert.Equal([$"{c.Cohort}:s1:entered:b", $"{c.Cohort}:s2:exited:a", $"{c.Cohort}:s2:entered:c"], rest.Select(e => e.ToString()));

        // Storing again moves it (backwards too, to replay).
        Assert.Equal(next, (await restarted.Client.PutApiAsync(CursorPath(name), Body(next))).Body.Text("cursor"));
        Assert.Equal(next, (await fx.Client.GetOkAsync(CursorPath(name))).Text("cursor"));
        await fx.Client.PutApiAsync(CursorPath(name), Body(a.Cursor));
        Assert.Equal(a.Cursor, (await fx.B.Client.GetOkAsync(CursorPath(name))).Text("cursor"));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("-leading-dash")]
    [InlineData("slash/inside")]
    [InlineData("ünïcode")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345")]
    public async Task A_bad_consumer_name_is_refused_with_400(string name)
    {
        var (_, start) = await fx.Client.ReadAsync("", null, 1);
        foreach (var reply in new[]
                 {
                     await fx.Client.GetApiAsync(CursorPath(name)),
                     await fx.Client.PutApiAsync(CursorPath(name), Body(start)),
                 })
        {
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            Assert.Equal("a consumer name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", reply.Error);
        }
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""{"cursor": 5}""")]
    [InlineData("""{"cursor": null}""")]
    [InlineData("""{"cursor": "WzEsMl0"}""")]
    [InlineData("""{"cursor": "%%"}""")]
    [InlineData("""{"cursor": "WzEsIlx1MDAwMCJd"}""")]
    public async Task A_bad_cursor_body_is_refused_with_400_and_nothing_is_stored(string body)
    {
        var name = $"bad-body-{Guid.NewGuid():N}";
        var reply = await fx.Client.PutApiAsync(CursorPath(name), body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains("cursor", reply.Error);
        await fx.Client.GetNotFoundAsync(CursorPath(name));
    }

    [Fact]
    public async Task The_longest_valid_name_is_accepted()
    {
        var name = "w" + Guid.NewGuid().ToString("N") + new string('.', 31);
        Assert.Equal(64, name.Length);
        var (_, start) = await fx.Client.ReadAsync("", null, 1);
        Assert.Equal(HttpStatusCode.OK, (await fx.Client.PutApiAsync(CursorPath(name), Body(start))).Status);
        Assert.Equal(start, (await fx.Client.GetOkAsync(CursorPath(name))).Text("cursor"));
    }
}
