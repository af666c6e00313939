using CohortSync.Host.Api;
using CohortSync.Host.Webhook;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// How each part of the service is guarded, for <c>/readyz</c>: an operator sees an opt-out at a glance.
/// Says which kind of guard applies, never a credential, key or address.
/// </summary>
public sealed record AccessSummary(string Webhook, string Api, string Operations)
{
    public static AccessSummary Of(IServiceProvider services)
    {
        var operations = services.GetRequiredService<IOptions<OperationsOptions>>().Value;
        return new AccessSummary(
            services.GetRequiredService<WebhookAuthenticator>().IsOpen ? "anonymous" : "credentials",
            services.GetRequiredService<ApiKeyAuthenticator>().IsOpen ? "local clients without a key" : "keys",
            (operations.Port is not null, operations.Keys.Count > 0) switch
            {
                (true, true) => "own port and keys",
                (true, false) => "own port",
                (false, true) => "keys",
                (false, false) => "open",
            });
    }
}
