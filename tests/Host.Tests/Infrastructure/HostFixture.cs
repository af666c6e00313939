using CohortSync.Host;
using CohortSync.Host.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>One real application: Kestrel on a loopback port, and a client for it.</summary>
public sealed class RunningHost(WebApplication app, Uri baseAddress) : IAsyncDisposable
{
    public WebApplication App { get; } = app;
    public Uri BaseAddress { get; } = baseAddress;
    public HttpClient Client { get; } = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
            return;
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>
/// A private PostgreSQL database (<c>cohortsync_test_*</c>, dropped at the end) and two hosts on it, A and
/// B, as two processes of one deployment would be. Tests isolate by unique project and cohort ids.
/// More hosts (other settings, other databases) can be started; all are stopped at the end.
/// </summary>
public sealed class HostFixture : IAsyncLifetime
{
    readonly List<RunningHost> hosts = [];
    readonly List<string> databases = [];

    /// <summary>The local server's <c>postgres</c> database (to create, drop and lock out databases).</summary>
    public string ServerConnectionString { get; private set; } = "";

    /// <summary>The test database hosts A and B use.</summary>
    public string ConnectionString { get; private set; } = "";

    public RunningHost A { get; private set; } = null!;
    public RunningHost B { get; private set; } = null!;

    /// <summary>Host A's client.</summary>
    public HttpClient Client => A.Client;

    public async Task InitializeAsync()
    {
        ServerConnectionString = await LocalPostgres.EnsureStartedAsync(new LocalPostgresOptions(), "postgres", Log);
        ConnectionString = await CreateDatabaseAsync();
        A = await StartHostAsync();
        B = await StartHostAsync();
    }

    /// <summary>A fresh empty database on the local server, dropped when the fixture ends.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"cohortsync_test_{Guid.NewGuid():N}";
        lock (databases)
            databases.Add(name);
        return await LocalPostgres.EnsureStartedAsync(new LocalPostgresOptions(), name, Log);
    }

    /// <summary>Builds (migrating its database), starts and returns one more host.</summary>
    /// <param name="settings">Configuration on top of the defaults (connection string, Warning logs).</param>
    /// <param name="connectionString">Another database than the fixture's.</param>
    /// <param name="environment">The host's environment (Testing, which like Production is closed by default).</param>
    public async Task<RunningHost> StartHostAsync(
        IReadOnlyDictionary<string, string?>? settings = null, string? connectionString = null, string environment = "Testing")
    {
        var config = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{CohortSyncApp.ConnectionStringName}"] = connectionString ?? ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            // Open hosts warn that no credentials are configured: expected here.
            ["Logging:LogLevel:testhost"] = "Error",
            // Outside Development an open host must be asked for; most tests sync and read without credentials.
            ["Webhook:AllowAnonymous"] = "true",
            ["Api:AllowAnonymous"] = "true",
            // Tests share hosts and one client address; the failure limit has tests of its own.
            ["Security:FailedAuthLimit"] = "1000000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            config[key] = value;

        var app = await CohortSyncApp.BuildAsync(
            ["--urls=http://127.0.0.1:0", $"--environment={environment}"],
            b => b.Configuration.AddInMemoryCollection(config));
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                      ?? app.Urls.First();
        var host = new RunningHost(app, new Uri(address));
        lock (hosts)
            hosts.Add(host);
        return host;
    }

    public NpgsqlConnection OpenDatabase(string? connectionString = null)
    {
        var connection = new NpgsqlConnection(connectionString ?? ConnectionString);
        connection.Open();
        return connection;
    }

    public async Task DisposeAsync()
    {
        RunningHost[] running;
        lock (hosts)
            running = [.. hosts];
        foreach (var host in running)
        {
            try
            {
                await host.DisposeAsync();
            }
            catch (Exception e)
            {
                Log($"stopping a host failed: {e.Message}");
            }
        }

        NpgsqlConnection.ClearAllPools();
        await using var server = new NpgsqlConnection(ServerConnectionString);
        await server.OpenAsync();
        foreach (var name in databases)
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", server);
            await drop.ExecuteNonQueryAsync();
        }
    }

    static void Log(string message) => Console.Error.WriteLine($"[HostFixture] {message}");
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host";
}
