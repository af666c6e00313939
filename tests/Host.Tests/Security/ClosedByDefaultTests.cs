using System.Net;
using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CohortSync.Host.Tests.Security;

/// <summary>
/// Outside Development the service starts closed: the webhook needs credentials and /v1 keys, unless an
/// explicit AllowAnonymous says otherwise, which is then logged and shown by /readyz.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ClosedByDefaultTests(HostFixture fx)
{
    static readonly Dictionary<string, string?> NothingAllowed = new()
    {
        ["Webhook:AllowAnonymous"] = "false",
        ["Api:AllowAnonymous"] = "false",
    };

    static Dictionary<string, string?> With(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>(NothingAllowed);
        foreach (var (key, value) in settings)
            all[key] = value;
        return all;
    }

    [Fact]
    public async Task Production_with_nothing_configured_refuses_to_start_and_names_both_settings()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(NothingAllowed, environment: "Production"));
        Assert.Contains("Webhook:Credentials is empty in the Production environment", error.Message);
        Assert.Contains("Webhook__Credentials__0__Password", error.Message);
        Assert.Contains("Webhook:AllowAnonymous=true", error.Message);
        Assert.Contains("Api:Keys is empty in the Production environment", error.Message);
        Assert.Contains("Api:AllowAnonymous=true", error.Message);
    }

    [Fact]
    public async Task Production_without_webhook_credentials_refuses_to_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(
            With(("Api:Keys:0:Key", "k")), environment: "Production"));
        Assert.Contains("Webhook:Credentials is empty in the Production environment", error.Message);
        Assert.DoesNotContain("Api:Keys", error.Message);
    }

    [Fact]
    public async Task Production_without_api_keys_refuses_to_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(
            With(("Webhook:Credentials:0:Username", "mixpanel"), ("Webhook:Credentials:0:Password", "p")), environment: "Production"));
        Assert.Contains("Api:Keys is empty in the Production environment", error.Message);
        Assert.DoesNotContain("Webhook:Credentials", error.Message);
    }

    [Theory]
    [InlineData("Staging")]
    [InlineData("Testing")]
    public async Task Every_environment_but_Development_is_closed(string environment)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(NothingAllowed, environment: environment));
        Assert.Contains($"Webhook:Credentials is empty in the {environment} environment", error.Message);
    }

    [Fact]
    public async Task Development_starts_open_with_nothing_configured()
    {
        await using var host = await fx.StartHostAsync(NothingAllowed, environment: "Development");
        await host.Client.PostOkAsync(TestCohort.New("dev").Members("s1", 1, 1, "a"));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts?limit=1")).Status);
        var access = await AccessAsync(host.Client);
        Assert.Equal("anonymous", access.GetProperty("webhook").GetString());
        Assert.Equal("local clients without a key", access.GetProperty("api").GetString());
    }

    [Fact]
    public async Task Migrate_in_Production_needs_only_a_connection_string()
    {
        // `migrate` builds the service (applying migrations) and serves nothing, so it asks for no credentials.
        await using var app = await CohortSyncApp.BuildAsync(
            ["--environment=Production"],
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"ConnectionStrings:{CohortSyncApp.ConnectionStringName}"] = fx.ConnectionString,
                ["Logging:LogLevel:Default"] = "Warning",
            }));
    }

    [Fact]
    public async Task The_opt_out_in_Production_starts_open_warns_at_start_and_shows_in_readyz()
    {
        var logs = new CapturedLogs();
        await using var app = await CohortSyncApp.BuildAsync(
            ["--urls=http://127.0.0.1:0", "--environment=Production"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    [$"ConnectionStrings:{CohortSyncApp.ConnectionStringName}"] = fx.ConnectionString,
                    ["Webhook:AllowAnonymous"] = "true",
                    ["Api:AllowAnonymous"] = "true",
                });
                b.Logging.AddProvider(logs);
            });
        await app.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            await client.PostOkAsync(TestCohort.New("opt-out").Members("s1", 1, 1, "a"));
            var access = await AccessAsync(client);
            Assert.Equal("anonymous", access.GetProperty("webhook").GetString());
            Assert.Equal("local clients without a key", access.GetProperty("api").GetString());
            Assert.Contains(logs.Warnings, w => w.Contains("No webhook credentials are configured") && w.Contains("Webhook:AllowAnonymous"));
            Assert.Contains(logs.Warnings, w => w.Contains("No API keys are configured") && w.Contains("Api:AllowAnonymous"));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Readyz_tells_the_guards_and_no_secret()
    {
        await using var host = await fx.StartHostAsync(With(
            ("Webhook:Credentials:0:Username", "mixpanel"), ("Webhook:Credentials:0:Password", "webhook-secret"),
            ("Api:Keys:0:Key", "api-secret"), ("Operations:Keys:0", "operations-secret")));
        using var reply = await host.Client.GetAsync("/readyz");
        var text = await reply.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("""{"status":"ready","access":{"webhook":"credentials","api":"keys","operations":"keys"}}""", text);
        Assert.Equal("""{"status":"alive"}""", await host.Client.GetStringAsync("/healthz"));
    }

    [Theory]
    [InlineData("Security:KnownProxies:0", "10.0.0.300", "Security:KnownProxies:0 (10.0.0.300) is not an IP address")]
    [InlineData("Security:KnownNetworks:0", "10.0.0.0", "Security:KnownNetworks:0 (10.0.0.0) is not a network")]
    [InlineData("Operations:Url", "http://127.0.0.1:0", "Operations:Url (http://127.0.0.1:0) must be a URL with a fixed port")]
    [InlineData("Operations:Url", "127.0.0.1:9090", "Operations:Url (127.0.0.1:9090) must be a URL with a fixed port")]
    [InlineData("Operations:Keys:0", " ", "Operations:Keys:0 is empty")]
    [InlineData("Security:FailedAuthLimit", "0", "FailedAuthLimit")]
    public async Task A_guard_setting_that_does_not_parse_stops_the_start(string key, string value, string message)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(message, error.Message);
    }

    static async Task<JsonElement> AccessAsync(HttpClient client)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync("/readyz"));
        return document.RootElement.GetProperty("access").Clone();
    }

    sealed class CapturedLogs : ILoggerProvider, ILogger
    {
        readonly List<string> warnings = [];

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (warnings)
                    return [.. warnings];
            }
        }

        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
                lock (warnings)
                    warnings.Add(formatter(state, exception));
        }

        public void Dispose()
        {
        }
    }
}
