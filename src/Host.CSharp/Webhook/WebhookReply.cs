using System.Text.Json.Serialization;

namespace CohortSync.Host.Webhook;

/// <summary>The body Mixpanel expects back: <c>action</c> echoed, and <c>error</c> only on failure.</summary>
public sealed record WebhookReply(
    string Action,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WebhookError? Error)
{
    public static WebhookReply Success(string action) => new(action, "success", null);

    /// <summary>The HTTP status always equals <paramref name="code"/>.</summary>
    public static WebhookReply Failure(string action, string message, int code) =>
        new(action, "failure", new WebhookError(message, code));
}

public sealed record WebhookError(string Message, int Code);
