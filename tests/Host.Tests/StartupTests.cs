using Microsoft.Extensions.Configuration;
using CohortSync.Host.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Tests;

/// <summary>Hosts of one deployment start one after another on one database.</summary>
[Collection(HostCollection.Name)]
public sealed class StartupTests(HostFixture fx)
{
    // Migrations.AdvisoryLockKey (0x436f686f72745379).
    const long MigrationLock = 0x436f686f72745379;

    [Fact]
    public async Task Migration_lock_is_released_once_a_host_has_started()
    {
        var connectionString = await fx.CreateDatabaseAsync();
        await using var host = await fx.StartHostAsync(connectionString: connectionString);

        // Another process, as a second host would be: its own connection, not this process's pool.
        var other = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "another-host", Pooling = false };
        await using var connection = new NpgsqlConnection(other.ConnectionString);
        await connection.OpenAsync();
        var acquired = await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@MigrationLock)", new { MigrationLock });
        var holders = await connection.QueryAsync<string>(
            """
            SELECT format('pid %s, state %s, last query %s', a.pid, a.state, left(a.query, 60))
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.pid <> pg_backend_pid()
            """);
        if (acquired)
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@MigrationLock)", new { MigrationLock });
        Assert.True(acquired, $"the migration lock is still held after start by: {string.Join("; ", holders)}");
    }

    [Fact]
    public async Task Two_hosts_on_one_database_both_serve_one_cohort()
    {
        var c = TestCohort.New("two-hosts");
        await fx.A.Client.PostOkAsync(c.Members("s1", 1, 2, "a"));
        await fx.B.Client.PostOkAsync(c.Members("s1", 2, 2, "b"));
        Assert.Equal(["a", "b"], await fx.A.Client.MemberIdsAsync(c));
        Assert.Equal(["a", "b"], await fx.B.Client.MemberIdsAsync(c));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await fx.B.Client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await fx.B.Client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task A_credential_without_a_password_stops_the_start()
    {
        // A misspelt setting must not turn into "any request with this name and an empty password".
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Webhook:Credentials:0:Username"] = "mixpanel",
            ["Webhook:Credentials:0:Pasword"] = "misspelt",
        }));
        Assert.Contains("Webhook:Credentials:0 needs both a Username and a Password", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task A_credential_with_a_blank_project_stops_the_start(string project)
    {
        // Dropped, the blank entry would leave an empty list, which allows every project.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Webhook:Credentials:0:Username"] = "mixpanel",
            ["Webhook:Credentials:0:Password"] = "s3cret",
            ["Webhook:Credentials:0:Projects:0"] = project,
        }));
        Assert.Contains("Webhook:Credentials:0:Projects:0 is blank", error.Message);
    }

    [Fact]
    public async Task A_default_page_size_over_the_maximum_stops_the_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Api:DefaultPageSize"] = "500",
            ["Api:MaxPageSize"] = "100",
        }));
        Assert.Contains("Api:DefaultPageSize (500) must not be over Api:MaxPageSize (100)", error.Message);
    }

    [Fact]
    public async Task A_private_server_whose_port_is_taken_says_so()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var folder = Path.Combine(Path.GetTempPath(), $"cohortsync-port-{Guid.NewGuid():N}");
        try
        {
            var options = new Database.LocalPostgresOptions { DataDirectory = folder, Port = port };
            var error = await Assert.ThrowsAsync<InvalidOperationException>(
                () => Database.LocalPostgres.EnsureStartedAsync(options, "postgres", _ => { }));
            Assert.Contains($"127.0.0.1:{port} is already in use", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Two_private_servers_without_a_configured_port_run_side_by_side()
    {
        // Two checkouts on one machine: each keeps a port of its own, so both test suites can run at once.
        var folders = new[] { 1, 2 }.Select(_ => Path.Combine(Path.GetTempPath(), $"cohortsync-side-{Guid.NewGuid():N}")).ToArray();
        var options = folders.Select(f => new Database.LocalPostgresOptions { DataDirectory = f }).ToArray();
        try
        {
            var first = await Database.LocalPostgres.EnsureStartedAsync(options[0], "postgres", _ => { });
            var second = await Database.LocalPostgres.EnsureStartedAsync(options[1], "postgres", _ => { });
            Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Port, new NpgsqlConnectionStringBuilder(second).Port);
            foreach (var connectionString in new[] { first, second })
            {
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
                await connection.OpenAsync();
                Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT 1"));
            }
            // A second start finds the running server on the port it keeps.
            Assert.Equal(first, await Database.LocalPostgres.EnsureStartedAsync(options[0], "postgres", _ => { }));
        }
        finally
        {
            foreach (var (option, folder) in options.Zip(folders))
            {
                Database.LocalPostgres.Stop(option);
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Production_without_a_connection_string_stops_the_start_and_provisions_nothing()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cohortsync-prod-{Guid.NewGuid():N}");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CohortSyncApp.BuildAsync(
            ["--environment=Production", $"--LocalPostgres:DataDirectory={folder}"],
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"ConnectionStrings:{CohortSyncApp.ConnectionStringName}"] = "",
            })));
        Assert.Contains("ConnectionStrings:CohortSync is not set", error.Message);
        Assert.Contains("ConnectionStrings__CohortSync", error.Message);
        Assert.False(Directory.Exists(folder), "nothing is provisioned in Production");
    }
}
