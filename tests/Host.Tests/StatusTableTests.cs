using System.Net;
using System.Text;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>Every row of the webhook's status table, over HTTP: 200, 400, 401, 403, 409, 413 (503 is in <see cref="OutageTests"/>).</summary>
[Collection(HostCollection.Name)]
public sealed class StatusTableTests(HostFixture fx)
{
    [Fact]
    public async Task Ok_for_stored_committed_duplicate_committed_session_and_superseded_session_pages()
    {
        var c = TestCohort.New("ok");
        var client = fx.Client;

        var stored = await client.PostAsync(c.Members("s1", 1, 2, "a"));
        Assert.Equal((HttpStatusCode.OK, "members", "success"), (stored.Status, stored.Action, stored.Outcome));
        Assert.Equal("""{"action":"members","status":"success"}""", stored.Raw);
        Assert.Equal("open", Assert.Single(await Db.SessionsAsync(fx.ConnectionString, c)).state);

        var duplicate = await client.PostOkAsync(c.Members("s1", 1, 2, "a"));
        Assert.Equal("success", duplicate.Outcome);

        var committed = await client.PostOkAsync(c.Members("s1", 2, 2, "b"));
        Assert.Equal("success", committed.Outcome);
        Assert.Equal(["a", "b"], await client.MemberIdsAsync(c));

        // A page of the committed session (Mixpanel retrying after a lost reply): acknowledged, no effect.
        await client.PostOkAsync(c.Members("s1", 1, 2, "a", "zzz"));
        Assert.Equal(["a", "b"], await client.MemberIdsAsync(c));

        // A diff page echoes its own action.
        var add = await client.PostOkAsync(c.Add("s2", 1, 2, "c"));
        Assert.Equal("add_members", add.Action);
        // s3 opens: s2 is superseded; its late pages are acknowledged and ignored.
        var remove = await client.PostOkAsync(c.Remove("s3", 1, 1, "a"));
        Assert.Equal("remove_members", remove.Action);
        await client.PostOkAsync(c.Add("s3", 1, 1));
        await client.PostOkAsync(c.Add("s2", 2, 2, "d"));
        await client.PostOkAsync(c.Remove("s2", 1, 1));
        Assert.Equal(["b"], await client.MemberIdsAsync(c));
        Assert.Equal(
            new[] { ("s1", "committed"), ("s2", "superseded"), ("s3", "committed") },
            (await Db.SessionsAsync(fx.ConnectionString, c)).Select(s => (s.session_id, s.state)));
    }

    [Theory]
    [InlineData("this is not json", "", "$: is not valid JSON")]
    [InlineData("", "", "$: is not valid JSON")]
    [InlineData("""{"action":"members","parameters":{""", "members", "$: is not valid JSON")]
    [InlineData("[1,2,3]", "", "$: must be a JSON object")]
    [InlineData("\"members\"", "", "$: must be a JSON object")]
    [InlineData("""{"action":"members"}""", "members", "parameters: is required")]
    [InlineData("""{"action":"members","parameters":[]}""", "members", "parameters: must be an object")]
    [InlineData("""{"action":"add_members","parameters":{"mixpanel_project_id":"p","mixpanel_cohort_id":"c","mixpanel_session_id":"s","page_info":"1 of 2","members":{}}}""",
        "add_members", "parameters.page_info: must be an object; parameters.members: must be an array")]
    [InlineData("""{"action":"sync","parameters":{"mixpanel_project_id":"p","mixpanel_cohort_id":"c","mixpanel_session_id":"s","page_info":{"total_pages":1,"page_count":1}}}""",
        "sync", "action: must be one of members, add_members, remove_members")]
    [InlineData("""{"action":"members","parameters":{"mixpanel_project_id":"p","mixpanel_cohort_id":"c","mixpanel_session_id":"s","page_info":{"total_pages":0,"page_count":1},"members":[{"mixpanel_distinct_id":"u"}]}}""",
        "members", "parameters.page_info.total_pages: must be between 1 and 1000000")]
    [InlineData("""{"action":"members","parameters":{"mixpanel_project_id":"p","mixpanel_cohort_id":"c","mixpanel_session_id":"s","page_info":{"total_pages":2,"page_count":"two"}}}""",
        "members", "parameters.page_info.page_count: must be an integer")]
    public async Task Bad_request_for_malformed_bodies(string body, string echoedAction, string message)
    {
        var reply = await fx.Client.PostRawAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(echoedAction, reply.Action);
        Assert.StartsWith(message, reply.ErrorMessage);
    }

    [Fact]
    public async Task Bad_request_lists_every_problem_with_its_path_and_records_the_rejection_without_the_body()
    {
        var c = TestCohort.New("invalid");
        var marker = $"leak-{Guid.NewGuid():N}";
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);
        var body =
            $$$"""
            {"action":"members","parameters":{
              "mixpanel_project_id":"","mixpanel_cohort_id":true,"mixpanel_session_id":"{{{marker}}}",
              "mixpanel_cohort_name":["{{{marker}}}"],
              "page_info":{"total_pages":3,"page_count":4},
              "members":[{"email":"{{{marker}}}@example.com"},"{{{marker}}}",{"mixpanel_distinct_id":"ok","first_name":{"x":"{{{marker}}}"}},
                         {"mixpanel_distinct_id":"{{{new string('x', 1025)}}}"}]}}
            """ + new string(' ', Random.Shared.Next(1, 500)); // a size of its own, to find its rejection row
        var reply = await fx.Client.PostRawAsync(body);

        Assert.Equal((HttpStatusCode.BadRequest, "members"), (reply.Status, reply.Action));
        var problems = reply.ErrorMessage!.Split("; ");
        // Every problem, in the order of the body, each with its path.
        Assert.Equal(Expected, problems);
        Assert.DoesNotContain(marker, reply.Raw);

        var size = Encoding.UTF8.GetByteCount(body);
        var rows = await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rs => rs.Any(r => r.size_bytes == size));
        var row = Assert.Single(rows, r => r.size_bytes == size);
        Assert.Equal((400, "invalid_body", "members"), (row.status, row.reason, row.action));
        Assert.Equal(reply.ErrorMessage, row.message);
        Assert.DoesNotContain(rows, r => $"{r.message}|{r.action}|{r.project_id}|{r.cohort_id}|{r.session_id}".Contains(marker));
        Assert.Null(await fx.Client.TryGetAllMembersAsync(c));
    }

    static readonly string[] Expected =
    [
        "parameters.mixpanel_project_id: must not be empty",
        "parameters.mixpanel_cohort_id: must be a string or a number",
        "parameters.mixpanel_cohort_name: must be a string",
        "parameters.page_info.page_count: must be between 1 and total_pages (3)",
        "parameters.members[0].mixpanel_distinct_id: is required",
        "parameters.members[1]: must be an object",
        "parameters.members[2].first_name: must be a string",
        "parameters.members[3].mixpanel_distinct_id: must be at most 1024 bytes of UTF-8",
    ];

    [Fact]
    public async Task Bad_request_with_many_problems_shows_twenty_and_counts_the_rest()
    {
        var members = string.Join(",", Enumerable.Repeat("""{"email":"e@example.com"}""", 25));
        var body =
            $$$"""{"action":"members","parameters":{"mixpanel_project_id":"p","mixpanel_cohort_id":"c","mixpanel_session_id":"s","page_info":{"total_pages":1,"page_count":1},"members":[{{{members}}}]}}""";
        var reply = await fx.Client.PostRawAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.EndsWith("; and 5 more", reply.ErrorMessage);
        Assert.Contains("parameters.members[19].mixpanel_distinct_id: is required", reply.ErrorMessage);
        Assert.DoesNotContain("parameters.members[20]", reply.ErrorMessage);
    }

    [Fact]
    public async Task Unauthorized_and_forbidden_with_credentials_configured()
    {
        var allowed = TestCohort.New("auth");
        var other = TestCohort.New("auth-other");
        var password = $"pw-{Guid.NewGuid():N}";
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Webhook:Credentials:0:Username"] = "mixpanel",
            ["Webhook:Credentials:0:Password"] = password,
            ["Webhook:Credentials:0:Projects:0"] = allowed.Project,
            ["Webhook:Credentials:1:Username"] = "everything",
            ["Webhook:Credentials:1:Password"] = password + "-all",
        });
        var page = allowed.Members("s1", 1, 1, "u1");
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);

        var unauthorized = new[]
        {
            null,
            WebhookClient.Basic("mixpanel", "wrong"),
            WebhookClient.Basic("someone", password),
            WebhookClient.Basic("mixpanel", password + " "),
            new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", password),
            new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "%%%not-base64%%%"),
            new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("no-colon"))),
        };
        foreach (var auth in unauthorized)
        {
            var reply = await host.Client.PostRawAsync(page.Body(), auth);
            Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{auth}: {reply}");
            Assert.Equal("members", reply.Action);
            Assert.Contains("Basic", reply.Headers.WwwAuthenticate.ToString());
            Assert.DoesNotContain(password, reply.Raw);
        }
        // Nothing was stored for any of them.
        Assert.Null(await fx.Client.TryGetAllMembersAsync(allowed));

        var forbidden = await host.Client.PostAsync(other.Members("s1", 1, 1, "u1"), WebhookClient.Basic("mixpanel", password));
        Assert.Equal((HttpStatusCode.Forbidden, "members"), (forbidden.Status, forbidden.Action));
        Assert.Contains(other.Project, forbidden.ErrorMessage);
        Assert.Null(await fx.Client.TryGetAllMembersAsync(other));

        await host.Client.PostOkAsync(page, WebhookClient.Basic("mixpanel", password));
        Assert.Equal(["u1"], await fx.Client.MemberIdsAsync(allowed));
        // A credential with no project list may sync any project.
        await host.Client.PostOkAsync(other.Members("s1", 1, 1, "u2"), WebhookClient.Basic("everything", password + "-all"));
        Assert.Equal(["u2"], await fx.Client.MemberIdsAsync(other));

        var rows = await Db.RejectionsSinceAsync(fx.ConnectionString, mark,
            rs => rs.Count(r => r.status == 401) >= unauthorized.Length && rs.Any(r => r.status == 403));
        Assert.Equal(unauthorized.Length, rows.Count(r => r is { status: 401, reason: "unauthorized" }));
        Assert.All(rows.Where(r => r.status == 401), r => Assert.Equal(page.Body().Length, r.size_bytes));
        var denied = Assert.Single(rows, r => r.status == 403);
        Assert.Equal(("forbidden_project", "members", other.Project, other.Cohort, "s1"),
            (denied.reason, denied.action, denied.project_id, denied.cohort_id, denied.session_id));
        Assert.DoesNotContain(rows, r => r.message.Contains(password));
    }

    [Fact]
    public async Task Payload_too_large_over_the_configured_limit_with_or_without_content_length()
    {
        await using var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Webhook:MaxBodyBytes"] = "4096" });
        var c = TestCohort.New("large");

        var big = c.Page(CohortSync.Domain.WebhookAction.Members, "s1", 1, 1,
            Enumerable.Range(0, 100).Select(i => Users.M($"u{i:D3}", email: $"user{i}@example.com", firstName: "First", lastName: "Last")));
        Assert.True(big.Body().Length > 4096);
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);

        var declared = await host.Client.PostRawAsync(big.Body());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.Status);
        Assert.Contains("4096", declared.ErrorMessage);
        Assert.Equal("members", declared.Action);

        var chunked = await host.Client.SendWebhookAsync(new ChunkedContent(big.Body()));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.Status);
        Assert.Equal("members", chunked.Action);
        Assert.Null(await fx.Client.TryGetAllMembersAsync(c));

        // Exactly at the limit is accepted; one byte more is not.
        var small = c.Members("s1", 1, 1, "u1");
        var padding = 4096 - small.Body().Length;
        var atLimit = Encoding.UTF8.GetString(small.Body()) + new string(' ', padding);
        Assert.Equal(4096, Encoding.UTF8.GetByteCount(atLimit));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await host.Client.PostRawAsync(atLimit + " ")).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await host.Client.SendWebhookAsync(new ChunkedContent(Encoding.UTF8.GetBytes(atLimit + " ")))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendWebhookAsync(new ChunkedContent(Encoding.UTF8.GetBytes(atLimit)))).Status);
        Assert.Equal(["u1"], await fx.Client.MemberIdsAsync(c));

        // Far over the limit (20 MiB, under Kestrel's own 30,000,000-byte default): still answered 413.
        var huge = new byte[20 * 1024 * 1024];
        Array.Fill(huge, (byte)' ');
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await host.Client.PostRawAsync(huge)).Status);

        var rows = await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rs => rs.Count(r => r.status == 413) >= 5);
        Assert.Equal(5, rows.Count(r => r is { status: 413, reason: "too_large" }));
        Assert.Contains(rows, r => r.status == 413 && r.size_bytes == big.Body().Length);
    }

    [Fact]
    public async Task Body_over_every_limit_is_still_answered_413()
    {
        var huge = new byte[31_000_000];
        Array.Fill(huge, (byte)' ');
        var reply = await fx.Client.PostRawAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
    }

    [Fact]
    public async Task Conflict_for_a_members_page_in_an_open_diff_session()
    {
        var c = TestCohort.New("conflict");
        var client = fx.Client;
        await client.PostOkAsync(c.Members("s0", 1, 1, "base"));
        await client.PostOkAsync(c.Add("d1", 1, 2, "a"));
        var mark = await Db.RejectionMarkAsync(fx.ConnectionString);

        var conflicting = c.Members("d1", 1, 1, "zzz");
        var reply = await client.PostAsync(conflicting);
        Assert.Equal((HttpStatusCode.Conflict, "members", "failure"), (reply.Status, reply.Action, reply.Outcome));
        Assert.Contains("d1", reply.ErrorMessage);
        Assert.Contains("members", reply.ErrorMessage);

        // Nothing changed: the diff session goes on and commits as sent.
        Assert.Equal(["base"], await client.MemberIdsAsync(c));
        await client.PostOkAsync(c.Add("d1", 2, 2, "b"));
        await client.PostOkAsync(c.Remove("d1", 1, 1));
        Assert.Equal(["a", "b", "base"], await client.MemberIdsAsync(c));
        var d1 = (await Db.SessionsAsync(fx.ConnectionString, c)).Single(s => s.session_id == "d1");
        Assert.Equal(("diff", "committed"), (d1.kind, d1.state));

        // Once committed, the same page is a harmless repeat.
        await client.PostOkAsync(conflicting);
        Assert.Equal(["a", "b", "base"], await client.MemberIdsAsync(c));

        var rows = await Db.RejectionsSinceAsync(fx.ConnectionString, mark, rs => rs.Any(r => r.status == 409));
        var row = Assert.Single(rows, r => r.status == 409);
        Assert.Equal(("action_conflict", "members", c.Project, c.Cohort, "d1", (long?)conflicting.Body().Length, reply.ErrorMessage),
            (row.reason, row.action, row.project_id, row.cohort_id, row.session_id, row.size_bytes, row.message));
    }
}
