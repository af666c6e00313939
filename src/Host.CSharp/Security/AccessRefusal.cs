namespace CohortSync.Host.Security;

/// <summary>Why a request was refused access, as <c>cohortsync_access_refusals_total</c> counts it.</summary>
public static class AccessRefusal
{
    public const string WebhookCredentials = "webhook_credentials";
    public const string ApiKey = "api_key";
    public const string OperationsKey = "operations_key";
    public const string NotLocal = "not_local";
    public const string TooManyFailures = "too_many_failures";

    public static readonly string[] All = [WebhookCredentials, ApiKey, OperationsKey, NotLocal, TooManyFailures];
}
