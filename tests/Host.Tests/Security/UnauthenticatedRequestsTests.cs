using System.Net.Http.Headers;
using System.Text;
using CohortSync.Domain;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using FsCheck;
using FsCheck.Fluent;

namespace CohortSync.Host.Tests.Security;

/// <summary>No request without valid credentials, whatever its method, path, body and headers, changes any state.</summary>
[Collection(HostCollection.Name)]
public sealed class UnauthenticatedRequestsTests(HostFixture fx)
{
    /// <summary>One request: a method and path, an Authorization header that is not a valid one, a body, headers.</summary>
    public sealed record Attempt(string Method, string Path, string? Authorization, byte[] Body, string ContentType, (string Name, string Value)[] Headers)
    {
        public override string ToString() =>
            $"{Method} {Path} Authorization: {Authorization ?? "(none)"} {ContentType} [{string.Join(", ", Headers.Select(h => $"{h.Name}: {h.Value}"))}] " +
            Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 200)]);
    }

    static readonly TestCohort Cohort = TestCohort.New("unauthenticated");

    static Gen<string> Text(params string[] alphabet) =>
        Gen.Elements(alphabet).ListOf().Select(parts => string.Concat(parts));

    static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    static readonly Gen<string?> WrongAuthorization = Gen.OneOf(
        Gen.Constant<string?>(null),
        Text("a", "b", "x", ":", " ", "=", SecuredHosts.Username, SecuredHosts.Password).Select(s => (string?)("Basic " + Base64(s))),
        Text("a", "b", "1", SecuredHosts.Password).Select(p => (string?)("Basic " + Base64($"{SecuredHosts.Username}:{p}x"))),
        Text("a", "b", "1", SecuredHosts.ApiKey).Select(k => (string?)("Bearer x" + k)),
        Gen.Elements<string?>(
            "Basic", "Bearer", "Basic !!!", "Basic " + Base64(SecuredHosts.Username), "Bearer " + SecuredHosts.Password,
            "Basic " + Base64($"{SecuredHosts.Username}:{SecuredHosts.ApiKey}"), "Basic " + Base64($"{SecuredHosts.ApiKey}:{SecuredHosts.Password}"),
            "Digest " + Base64($"{SecuredHosts.Username}:{SecuredHosts.Password}"), "bearer  ", "Bearer " + SecuredHosts.ApiKey + " x"));

    static readonly Gen<byte[]> Body = Gen.OneOf(
        Gen.Elements(
                WebhookAction.Members, WebhookAction.AddMembers, WebhookAction.RemoveMembers)
            .Zip(Gen.Choose(1, 3), (action, page) => Cohort.Page(action, "s-attack", page, 3, Users.Ms("intruder", "a")).Body()),
        Gen.Constant(Encoding.UTF8.GetBytes("""{"cursor":"0"}""")),
        Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(),
        Text("{", "}", "\"", "action", ":", "members", "parameters", "[", "]", ",", "1").Select(Encoding.UTF8.GetBytes));

    static readonly Gen<(string, string)[]> Headers = Gen.Elements(
            ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "10.0.0.1"), ("X-Real-IP", "127.0.0.1"), ("Forwarded", "for=127.0.0.1"),
            ("X-HTTP-Method-Override", "GET"), ("Host", "localhost"), ("Cookie", "session=1"), ("X-Api-Key", SecuredHosts.ApiKey),
            ("Proxy-Authorization", "Basic " + Base64($"{SecuredHosts.Username}:{SecuredHosts.Password}")))
        .ListOf().Select(h => h.ToArray());

    static readonly Gen<Attempt> Attempts =
        from method in Gen.Elements("POST", "PUT", "GET", "DELETE", "PATCH")
        from path in Gen.Elements(
            WebhookClient.Path, WebhookClient.Path + "/", "/WEBHOOK", "/v1/consumers/seeded/cursor", "/v1/consumers/new/cursor",
            "/v1/cohorts", "/v1/events", "/metrics", "/readyz", "/webhook?x=1")
        from authorization in WrongAuthorization
        from body in Body
        from contentType in Gen.Elements("application/json", "text/plain", "application/x-www-form-urlencoded")
        from headers in Headers
        select new Attempt(method, path, authorization, body, contentType, headers);

    [Fact]
    public async Task Requests_without_valid_credentials_change_no_state()
    {
        var connectionString = await fx.CreateDatabaseAsync();
        await using var host = await SecuredHosts.StartAsync(fx, connectionString,
            ("Security:FailedAuthLimit", "1000000"), ("Operations:Keys:0", "operations-key"));

        // State to lose: a committed cohort, an open session and a feed consumer.
        await host.Client.PostOkAsync(Cohort.Members("s1", 1, 1, "a", "b"), SecuredHosts.Right);
        await host.Client.PostOkAsync(Cohort.Members("s2", 1, 2, "c"), SecuredHosts.Right);
        var (_, cursor) = await host.Client.ReadAsync("", null, 1, SecuredHosts.ApiKey);
        Assert.Equal(System.Net.HttpStatusCode.OK,
            (await host.Client.PutApiAsync("/v1/consumers/seeded/cursor", $$"""{"cursor":"{{cursor}}"}""", SecuredHosts.ApiKey)).Status);

        var before = await StateAsync(connectionString);
        var property = Prop.ForAll(Attempts.ToArbitrary(), attempt =>
        {
            SendAsync(host.Client, attempt).GetAwaiter().GetResult();
            var after = StateAsync(connectionString).GetAwaiter().GetResult();
            return after.SequenceEqual(before);
        });
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property));
    }

    static async Task SendAsync(HttpClient client, Attempt attempt)
    {
        using var request = new HttpRequestMessage(new HttpMethod(attempt.Method), attempt.Path);
        if (attempt.Method is not "GET" and not "DELETE")
        {
            request.Content = new ByteArrayContent(attempt.Body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(attempt.ContentType);
        }
        if (attempt.Authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", attempt.Authorization);
        foreach (var (name, value) in attempt.Headers)
        {
            if (name == "Host")
                request.Headers.Host = value;
            else
                request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>
    /// Every table's rows, as one digest each. The rejection log is left out: recording a refused request
    /// is its purpose, and it changes nothing the service serves but /v1/rejections.
    /// </summary>
    static async Task<List<(string Table, string Digest)>> StateAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = await connection.QueryAsync<string>(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('rejected_request', 'schemaversions')
            ORDER BY table_name
            """);
        var state = new List<(string, string)>();
        foreach (var table in tables)
            state.Add((table, await connection.ExecuteScalarAsync<string>(
                $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) || ':' || count(*) FROM \"{table}\" t") ?? ""));
        return state;
    }
}
