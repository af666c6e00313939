using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Security;

/// <summary>Hosts with a webhook credential and an API key, as a deployment outside Development has them.</summary>
static class SecuredHosts
{
    public const string Username = "mixpanel";
    public const string Password = "webhook-password";
    public const string ApiKey = "api-key";

    public static Task<RunningHost> StartAsync(HostFixture fx, params (string Key, string Value)[] settings) =>
        StartAsync(fx, null, settings);

    public static Task<RunningHost> StartAsync(HostFixture fx, string? connectionString, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Webhook:AllowAnonymous"] = "false",
            ["Api:AllowAnonymous"] = "false",
            ["Webhook:Credentials:0:Username"] = Username,
            ["Webhook:Credentials:0:Password"] = Password,
            ["Api:Keys:0:Key"] = ApiKey,
            ["Security:FailedAuthLimit"] = "20",
        };
        foreach (var (key, value) in settings)
            all[key] = value;
        return fx.StartHostAsync(all, connectionString);
    }

    public static System.Net.Http.Headers.AuthenticationHeaderValue Right => WebhookClient.Basic(Username, Password);
}
