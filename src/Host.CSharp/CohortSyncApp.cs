using System.Text.Json.Serialization;
using CohortSync.Host.Api;
using CohortSync.Host.Database;
using CohortSync.Host.Destinations;
using CohortSync.Host.Observability;
using CohortSync.Host.OpenApi;
using CohortSync.Host.OperatorConsole;
using CohortSync.Host.Retention;
using CohortSync.Host.Security;
using CohortSync.Host.Webhook;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host;

/// <summary>Builds the service: configuration, storage (migrated), and the endpoints.</summary>
public static class CohortSyncApp
{
    public const string ConnectionStringName = "CohortSync";

    /// <param name="args">Command-line configuration (<c>--Webhook:Path=/hook</c>, <c>--urls=...</c>).</param>
    /// <param name="configure">Lets tests add configuration before anything is read from it.</param>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var config = builder.Configuration;
        config.AddSecretsFolder();

        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookCredentialsValidator>();
        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        builder.Services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebhookOptions>, ClosedByDefault>();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ClosedByDefault>();
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OperationsOptions>, OperationsOptionsValidator>();
        ListenForOperations(builder);

        var connectionString = config.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            // Installing and starting a database is a convenience for a developer's machine, never a
            // deployment's behaviour: elsewhere a missing connection string is a mistake to stop on.
            if (!builder.Environment.IsDevelopment())
                throw new InvalidOperationException(
                    $"ConnectionStrings:{ConnectionStringName} is not set (environment variable ConnectionStrings__{ConnectionStringName}). " +
                    $"A private PostgreSQL is provisioned only in Development; this is {builder.Environment.EnvironmentName}.");
            var local = config.GetSection(LocalPostgresOptions.Section).Get<LocalPostgresOptions>() ?? new LocalPostgresOptions();
            connectionString = await LocalPostgres.EnsureStartedAsync(local, local.Database, Console.WriteLine);
        }
        connectionString = DeadHostDetection.Apply(connectionString);

        // Numbers are numbers: the web defaults also read them from strings, and the OpenAPI document then
        // typed every integer field as "integer or string". (The webhook parses its body itself.)
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(AutoPrepare.Apply(connectionString)).Build());
        builder.Services.AddSingleton<WebhookAuthenticator>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddForwardedClients();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<FailedAuthentications>((limiter, failures) =>
        {
            limiter.GlobalLimiter = failures.Gate;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = FailedAuthentications.RefuseAsync;
        });
        builder.Services.AddOptions<CommitOptions>().BindConfiguration(CommitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SessionCommitter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionCommitter>());
        builder.Services.AddSingleton<PageStore>();
        builder.Services.AddSingleton<PageTraffic>();
        builder.Services.AddSingleton<RejectionLog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RejectionLog>());
        builder.Services.AddReadApi();
        builder.Services.AddConsole();
        builder.Services.AddServiceMetrics();
        builder.Services.AddCohortSyncOpenApi();
        builder.Services.AddHealthChecks().AddCheck<DatabaseReadiness>(DatabaseReadiness.Name, tags: [HealthEndpoints.ReadyTag]);
        builder.Services.AddSingleton<RetentionPass>();
        builder.Services.AddHostedService<RetentionWorker>();
        builder.Services.AddDestinations();

        var app = builder.Build();
        await Migrations.ApplyAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), app.Logger);

        // Said when the service starts serving, after its settings are validated (not for `migrate`, which serves nothing).
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (app.Services.GetRequiredService<WebhookAuthenticator>().IsOpen)
                app.Logger.LogWarning(
                    "No webhook credentials are configured (Webhook:Credentials; allowed by Webhook:AllowAnonymous or Development): every request is accepted");
            if (app.Services.GetRequiredService<ApiKeyAuthenticator>().IsOpen)
                app.Logger.LogWarning(
                    "No API keys are configured (Api:Keys; allowed by Api:AllowAnonymous or Development): /v1 answers clients on this machine only");
        });

        // The client address first, so that the failure count and the loopback rule see the client, not a proxy.
        app.UseForwardedClients();
        app.UseRequestMetrics();
        app.UseRateLimiter();
        app.UseMiddleware<OperationsAccess>();
        // Read, not resolved: resolving the options would validate them now, and `migrate` needs no credentials.
        app.MapWebhook(config.GetSection(WebhookOptions.Section).Get<WebhookOptions>()?.Path ?? new WebhookOptions().Path);
        app.MapReadApi();
        app.MapConsole();
        app.MapHealth();
        var operations = app.MapGroup("").WithMetadata(new OperationsEndpoint());
        operations.MapMetricsEndpoint();
        operations.MapCohortSyncOpenApi();
        return app;
    }

    /// <summary>Adds <c>Operations:Url</c> to the URLs the server listens on.</summary>
    static void ListenForOperations(WebApplicationBuilder builder)
    {
        var url = builder.Configuration[$"{OperationsOptions.Section}:{nameof(OperationsOptions.Url)}"];
        if (string.IsNullOrWhiteSpace(url))
            return;
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        builder.WebHost.UseUrls([.. (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), url]);
    }
}
