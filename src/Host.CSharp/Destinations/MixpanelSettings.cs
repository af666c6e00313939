using System.Text.Json;

namespace CohortSync.Host.Destinations;

/// <summary>
/// A mixpanel destination's settings. <c>Authentication</c> is token (the project token as the Basic user) or
/// serviceAccount (its username and secret, with <c>ImportProjectId</c> as <c>project_id</c>). The secrets are
/// only ever written: <c>NewCredentials</c> holds them when a create or change gives them, else null (kept).
/// </summary>
public sealed record MixpanelSettings(
    string Region, string Authentication, string? ServiceAccountUsername, string ImportProjectId, MixpanelEventNames EventNames,
    string PropertiesJson, MixpanelCredentials? NewCredentials);

/// <summary>The project token (no username), or a service account's username and secret.</summary>
public sealed record MixpanelCredentials(string? ServiceAccountUsername, string Secret);

/// <summary>
/// The event sent for each kind of change. The defaults are on Mixpanel's list of MTU-exempt messaging events:
/// entering a cohort hands the user to the campaign (<c>$campaign_delivery</c>), leaving it means the user is to
/// be messaged no more (<c>$message_suppressed</c>). The exemption holds only on legacy MTU billing.
/// </summary>
public sealed record MixpanelEventNames(string Entered, string Exited)
{
    public static readonly MixpanelEventNames Default = new("$campaign_delivery", "$message_suppressed");
}

/// <summary>How /import is authenticated, as the API names it.</summary>
public static class MixpanelAuthentication
{
    public const string Token = "token", ServiceAccount = "serviceAccount";
    public static readonly string[] All = [Token, ServiceAccount];
}

/// <summary>Reads the <c>mixpanel</c> object of a create or change body; a change keeps what it leaves out.</summary>
static class MixpanelSettingsReader
{
    const int MaxName = 255;

    public static MixpanelSettings? Read(JsonElement root, MixpanelSettings? current, string? projectId, List<string> problems)
    {
        if (!root.TryGetProperty("mixpanel", out var m) || m.ValueKind == JsonValueKind.Null)
        {
            if (current is null)
                problems.Add("mixpanel is required for a mixpanel destination: its region and a token or a service account");
            return current;
        }
        if (m.ValueKind != JsonValueKind.Object)
        {
            problems.Add("mixpanel must be an object");
            return null;
        }

        var region = DestinationSettingsReader.Text(m, "region", problems, "mixpanel.region") ?? current?.Region;
        if (region is null)
            problems.Add($"mixpanel.region is required: {string.Join(", ", MixpanelRegion.All)}");
        else if (!MixpanelRegion.All.Contains(region))
            problems.Add($"mixpanel.region must be one of {string.Join(", ", MixpanelRegion.All)}");

        var credentials = Credentials(m, problems);
        if (current is null && credentials is null)
            problems.Add("mixpanel needs a token or a serviceAccount {username, secret}");

        var importProjectId = DestinationSettingsReader.Text(m, "importProjectId", problems, "mixpanel.importProjectId")
                              ?? current?.ImportProjectId ?? projectId ?? "";
        if (importProjectId.Length is 0 or > MaxName || !Api.Cursor.IsStorable(importProjectId))
            problems.Add("mixpanel.importProjectId must be a Mixpanel project id");

        var names = current?.EventNames ?? MixpanelEventNames.Default;
        if (m.TryGetProperty("eventNames", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.Object)
                problems.Add("mixpanel.eventNames must be an object {entered, exited}");
            else
                names = new MixpanelEventNames(
                    EventName(n, "entered", problems) ?? names.Entered, EventName(n, "exited", problems) ?? names.Exited);
        }

        var properties = current?.PropertiesJson ?? "{}";
        if (m.TryGetProperty("properties", out var p))
        {
            if (p.ValueKind == JsonValueKind.Null)
                properties = "{}";
            else if (MixpanelProperties.Check(p, "mixpanel.properties", MixpanelEvents.Reserved, problems))
                properties = p.GetRawText();
        }

        var username = credentials is not null ? credentials.ServiceAccountUsername : current?.ServiceAccountUsername;
        return region is null
            ? null
            : new MixpanelSettings(region, username is null ? MixpanelAuthentication.Token : MixpanelAuthentication.ServiceAccount,
                username, importProjectId, names, properties, credentials);
    }

    static MixpanelCredentials? Credentials(JsonElement m, List<string> problems)
    {
        var hasToken = m.TryGetProperty("token", out var token) && token.ValueKind != JsonValueKind.Null;
        var hasAccount = m.TryGetProperty("serviceAccount", out var account) && account.ValueKind != JsonValueKind.Null;
        if (hasToken && hasAccount)
        {
            problems.Add("mixpanel takes a token or a serviceAccount, not both");
            return null;
        }
        if (hasToken)
            return Secret(token, "mixpanel.token", problems) is { } t ? new MixpanelCredentials(null, t) : null;
        if (!hasAccount)
            return null;
        if (account.ValueKind != JsonValueKind.Object)
        {
            problems.Add("mixpanel.serviceAccount must be an object {username, secret}");
            return null;
        }
        var username = account.TryGetProperty("username", out var u) ? Secret(u, "mixpanel.serviceAccount.username", problems) : null;
        var secret = account.TryGetProperty("secret", out var s) ? Secret(s, "mixpanel.serviceAccount.secret", problems) : null;
        if (username is null || secret is null)
        {
            problems.Add("mixpanel.serviceAccount needs a username and a secret");
            return null;
        }
        return new MixpanelCredentials(username, secret);
    }

    // The problem never quotes the value: it may be a secret.
    static string? Secret(JsonElement value, string path, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= MaxName } text && !text.Any(char.IsControl))
            return text;
        problems.Add($"{path} must be a non-empty string of at most {MaxName} characters");
        return null;
    }

    static string? EventName(JsonElement names, string kind, List<string> problems)
    {
        if (!names.TryGetProperty(kind, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= MaxName } name)
            return name;
        problems.Add($"mixpanel.eventNames.{kind} must be an event name of 1 to {MaxName} characters");
        return null;
    }
}
