using System.Text.Json;
using CohortSync.Host.Api;

namespace CohortSync.Host.Destinations;

/// <summary>
/// A destination's settings, checked: what the store writes. <c>Kind</c> webhook has a <c>Url</c>; kind mixpanel
/// has <c>Mixpanel</c> instead.
/// </summary>
public sealed record DestinationSettings(
    string Kind, string? Url, string ProjectId, string[]? CohortIds, string[] Kinds, int BatchSize, bool Enabled, int? ReentryCooldownSeconds,
    MixpanelSettings? Mixpanel);

/// <summary>The kinds of destination: a signed webhook, or Mixpanel's <c>/import</c>.</summary>
public static class DestinationKind
{
    public const string Webhook = "webhook", Mixpanel = "mixpanel";
    public static readonly string[] All = [Webhook, Mixpanel];
}

/// <summary>
/// Reads and checks a create or change body. A change keeps what it leaves out, so the body is read as a
/// document, where a field set to null (every cohort) differs from one left out.
/// </summary>
static class DestinationSettingsReader
{
    public const int MaxUrlLength = 2048;
    public const int MaxWebhookBatch = 1000;
    public const int MaxMixpanelBatch = 2000;
    public const int MaxCohorts = 1000;
    public const int MaxCooldownSeconds = 365 * 24 * 3600;
    static readonly string[] AllKinds = ["entered", "exited"];

    /// <summary>The settings, or the problems (every one, each naming its field).</summary>
    public static (DestinationSettings? Settings, string? Problem) Read(string json, DestinationSettings? current)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json);
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (null, "the body must be a JSON object");
        }
        if (root.ValueKind != JsonValueKind.Object)
            return (null, "the body must be a JSON object");

        var problems = new List<string>();
        var kind = Text(root, "kind", problems);
        if (current is not null && kind is not null && kind != current.Kind)
            problems.Add("kind cannot change: create another destination");
        kind ??= current?.Kind ?? DestinationKind.Webhook;
        if (!DestinationKind.All.Contains(kind))
        {
            problems.Add("kind must be webhook or mixpanel");
            kind = DestinationKind.Webhook;
        }
        var mixpanel = kind == DestinationKind.Mixpanel;
        var url = Text(root, "url", problems) ?? current?.Url;
        var projectId = Text(root, "projectId", problems);
        if (current is not null && projectId is not null && projectId != current.ProjectId)
            problems.Add("projectId cannot change: create another destination");
        projectId ??= current?.ProjectId;
        var cohortIds = root.TryGetProperty("cohortIds", out var cohorts) ? TextList(cohorts, "cohortIds", problems, nullable: true) : current?.CohortIds;
        var kinds = root.TryGetProperty("kinds", out var k) ? TextList(k, "kinds", problems, nullable: false) : current?.Kinds ?? AllKinds;
        var batchSize = Number(root, "batchSize", problems) ?? current?.BatchSize ?? (mixpanel ? MaxMixpanelBatch : 100);
        var enabled = Flag(root, "enabled", problems) ?? current?.Enabled ?? true;
        var cooldown = root.TryGetProperty("reentryCooldownSeconds", out var c) && c.ValueKind == JsonValueKind.Null
            ? null
            : Number(root, "reentryCooldownSeconds", problems) ?? current?.ReentryCooldownSeconds;

        MixpanelSettings? mixpanelSettings = null;
        if (mixpanel)
        {
            if (url is not null)
                problems.Add("url: a mixpanel destination has none (its region chooses where events go)");
            mixpanelSettings = MixpanelSettingsReader.Read(root, current?.Mixpanel, projectId, problems);
        }
        else
        {
            if (root.TryGetProperty("mixpanel", out _))
                problems.Add("mixpanel: only a destination of kind mixpanel has these settings");
            if (url is null)
                problems.Add("url is required");
            else if (url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
                     || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
                problems.Add($"url must be an absolute http or https URL without credentials, at most {MaxUrlLength} characters");
        }
        if (projectId is null)
            problems.Add("projectId is required");
        else if (projectId.Length == 0 || !Cursor.IsStorable(projectId))
            problems.Add("projectId must be a Mixpanel project id");
        if (cohortIds is not null && (cohortIds.Length == 0 || cohortIds.Length > MaxCohorts || cohortIds.Any(id => id.Length == 0 || !Cursor.IsStorable(id))))
            problems.Add($"cohortIds must be null (every cohort) or 1 to {MaxCohorts} cohort ids");
        if (kinds is not null && (kinds.Length == 0 || kinds.Any(x => !AllKinds.Contains(x))))
            problems.Add("kinds must list entered, exited or both");
        var maxBatch = mixpanel ? MaxMixpanelBatch : MaxWebhookBatch;
        if (batchSize < 1 || batchSize > maxBatch)
            problems.Add($"batchSize must be from 1 to {maxBatch}{(mixpanel ? " for a mixpanel destination" : "")}");
        if (cooldown is < 1 or > MaxCooldownSeconds)
            problems.Add($"reentryCooldownSeconds must be null (none) or from 1 to {MaxCooldownSeconds}");

        return problems.Count > 0
            ? (null, string.Join("; ", problems))
            : (new DestinationSettings(kind, url, projectId!, cohortIds?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
                AllKinds.Where(kinds!.Contains).ToArray(), batchSize, enabled, cooldown, mixpanelSettings), null);
    }

    internal static string? Text(JsonElement root, string name, List<string> problems, string? path = null)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString();
        problems.Add($"{path ?? name} must be a string");
        return null;
    }

    static int? Number(JsonElement root, string name, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n))
            return n;
        problems.Add($"{name} must be a whole number");
        return null;
    }

    static bool? Flag(JsonElement root, string name, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            return value.GetBoolean();
        problems.Add($"{name} must be true or false");
        return null;
    }

    static string[]? TextList(JsonElement value, string name, List<string> problems, bool nullable)
    {
        if (value.ValueKind == JsonValueKind.Null && nullable)
            return null;
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            return [.. value.EnumerateArray().Select(e => e.GetString()!)];
        problems.Add($"{name} must be an array of strings{(nullable ? " or null" : "")}");
        return nullable ? null : [];
    }
}
