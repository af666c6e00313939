using CohortSync.Host.Api;
using CohortSync.Host.Webhook;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// Outside Development the service does not start open: the webhook needs credentials and /v1 keys,
/// unless an explicit <c>AllowAnonymous</c> says otherwise. Checked when the service starts, so that
/// <c>migrate</c>, which serves nothing, needs only a connection string.
/// </summary>
public sealed class ClosedByDefault(IHostEnvironment environment) : IValidateOptions<WebhookOptions>, IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options) =>
        options.Credentials.Count > 0 || options.AllowAnonymous || environment.IsDevelopment()
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Webhook:Credentials is empty in the {environment.EnvironmentName} environment: add a credential " +
                "(Webhook__Credentials__0__Username and Webhook__Credentials__0__Password), " +
                "or set Webhook:AllowAnonymous=true to accept every request");

    public ValidateOptionsResult Validate(string? name, ApiOptions options) =>
        options.Keys.Count > 0 || options.AllowAnonymous || environment.IsDevelopment()
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Api:Keys is empty in the {environment.EnvironmentName} environment: add a key (Api__Keys__0__Key), " +
                "or set Api:AllowAnonymous=true to let clients on this machine read /v1 without one");
}
