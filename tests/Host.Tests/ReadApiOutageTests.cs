using System.Net;
using CohortSync.Host.Tests.Infrastructure;
using Npgsql;

namespace CohortSync.Host.Tests;

/// <summary>The read API while its database is unreachable: 503 (retry later), then answers again; other faults: 500.</summary>
[Collection(HostCollection.Name)]
public sealed class ReadApiOutageTests(HostFixture fx)
{
    [Fact]
    public async Task The_read_api_answers_503_while_the_database_is_unreachable_and_recovers()
    {
        var server = new NpgsqlConnectionStringBuilder(fx.ConnectionString);
        await using var proxy = new TcpProxy(server.Host!, server.Port);
        var viaProxy = new NpgsqlConnectionStringBuilder(fx.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var host = await fx.StartHostAsync(connectionString: viaProxy);
        var c = TestCohort.New("read-outage");
        await host.Client.PostOkAsync(c.Members("s1", 1, 1, "a"));

        proxy.Cut();
        foreach (var url in new[] { "/v1/cohorts", $"/v1/events?projectId={c.Project}", "/v1/consumers/w/cursor" })
        {
            var reply = await host.Client.GetApiAsync(url);
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "the database is unavailable; retry later"), (reply.Status, reply.Error));
        }

        proxy.Restore();
        ApiReply? recovered = null;
        for (var attempt = 0; attempt < 5 && recovered?.Status != HttpStatusCode.OK; attempt++)
            recovered = await host.Client.GetApiAsync(ApiClient.PathOf("v1", "cohorts", c.Project, c.Cohort));
        Assert.Equal(HttpStatusCode.OK, recovered!.Status);
        Assert.Equal(1, recovered.Body.GetProperty("memberCount").GetInt64());
    }

    [Fact]
    public async Task An_unexpected_fault_is_a_500_with_the_problem_body()
    {
        // A database whose rejected_request lost a column the query reads: a fault no retry cures.
        var database = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(connectionString: database);
        await Db.ExecuteAsync(database, "ALTER TABLE rejected_request RENAME COLUMN reason TO reason_renamed");

        var reply = await host.Client.GetApiAsync("/v1/rejections");
        Assert.Equal((HttpStatusCode.InternalServerError, "an unexpected fault; the details are in the service's log"), (reply.Status, reply.Error));
    }
}
