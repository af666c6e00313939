using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CohortSync.Host.OpenApi;

// Documentation only: the webhook reads its raw body itself (to enforce its size limit and report
// every problem with its path), so these types describe the body to OpenAPI and are never bound.
// Properties, not positional records: OpenAPI would call every constructor parameter required.

/// <summary>The action of a webhook call.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CohortSyncAction>))]
public enum CohortSyncAction
{
    [JsonStringEnumMemberName("members")] Members,
    [JsonStringEnumMemberName("add_members")] AddMembers,
    [JsonStringEnumMemberName("remove_members")] RemoveMembers,
}

/// <summary>One page of a Mixpanel cohort sync, as Mixpanel posts it.</summary>
public sealed class CohortSyncPage
{
    [JsonPropertyName("action"), JsonRequired]
    [Description("members: a full copy of the cohort (its session replaces the membership); add_members / remove_members: a diff against Mixpanel's last successful sync. Echoed in the reply.")]
    public CohortSyncAction Action { get; init; }

    [JsonPropertyName("parameters"), JsonRequired]
    public CohortSyncParameters Parameters { get; init; } = new();
}

/// <summary>What a page is about, and the members it carries.</summary>
public sealed class CohortSyncParameters
{
    [JsonPropertyName("mixpanel_project_id"), JsonRequired]
    [Description("Mixpanel project id: a string or a number (kept as its text), 1 to 255 bytes of UTF-8, no NUL.")]
    public string MixpanelProjectId { get; init; } = "";

    [JsonPropertyName("mixpanel_cohort_id"), JsonRequired]
    [Description("Mixpanel cohort id: a string or a number (kept as its text), 1 to 255 bytes of UTF-8, no NUL.")]
    public string MixpanelCohortId { get; init; } = "";

    [JsonPropertyName("mixpanel_cohort_name"), Description("The cohort's name; the latest sent is kept.")]
    public string? MixpanelCohortName { get; init; }

    [JsonPropertyName("mixpanel_cohort_description"), Description("The cohort's description; the latest sent is kept.")]
    public string? MixpanelCohortDescription { get; init; }

    [JsonPropertyName("mixpanel_session_id"), JsonRequired]
    [Description("One sync of the cohort: its pages are applied together once all of them are in. A string or a number, 1 to 255 bytes of UTF-8, no NUL.")]
    public string MixpanelSessionId { get; init; } = "";

    [JsonPropertyName("page_info"), JsonRequired]
    public CohortSyncPageInfo PageInfo { get; init; } = new();

    [JsonPropertyName("members")]
    [Description("The page's members. Missing or null is an empty page for add_members and remove_members, and refused (400) for members.")]
    public IReadOnlyList<CohortSyncMember>? Members { get; init; }
}

/// <summary>Where a page stands among its action's pages.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed class CohortSyncPageInfo
{
    [JsonPropertyName("total_pages"), JsonRequired]
    [Description("How many pages this action of the session has, 1 to 1,000,000 (an empty page saying 0 reads as 1). A new value restarts the action's assembly.")]
    public int TotalPages { get; init; }

    [JsonPropertyName("page_count"), JsonRequired, Description("This page's number, from 1 to total_pages.")]
    public int PageCount { get; init; }
}

/// <summary>
/// A member as Mixpanel exports it. Any other property (the cohort's "Properties to Export", nested
/// or not) is kept verbatim as the member's properties.
/// </summary>
public sealed class CohortSyncMember
{
    [JsonPropertyName("mixpanel_distinct_id"), JsonRequired]
    [Description("The user's distinct id: a string or a number, 1 to 1,024 bytes of UTF-8, no NUL.")]
    public string MixpanelDistinctId { get; init; } = "";

    [JsonPropertyName("email")] public string? Email { get; init; }
    [JsonPropertyName("first_name")] public string? FirstName { get; init; }
    [JsonPropertyName("last_name")] public string? LastName { get; init; }
    [JsonPropertyName("phone_number")] public string? PhoneNumber { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? OtherProperties { get; init; }
}

/// <summary>The reply Mixpanel expects: <c>action</c> echoed, <c>error</c> only on failure, its <c>code</c> the HTTP status.</summary>
public sealed class CohortSyncReply
{
    [JsonPropertyName("action"), JsonRequired]
    [Description("The action received, as sent; empty when it could not be read.")]
    public string Action { get; init; } = "";

    [JsonPropertyName("status"), JsonRequired]
    public CohortSyncReplyStatus Status { get; init; }

    [JsonPropertyName("error"), Description("Only on failure.")]
    public CohortSyncError Error { get; init; } = new();
}

[JsonConverter(typeof(JsonStringEnumConverter<CohortSyncReplyStatus>))]
public enum CohortSyncReplyStatus
{
    [JsonStringEnumMemberName("success")] Success,
    [JsonStringEnumMemberName("failure")] Failure,
}

/// <summary>Why a page was refused.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed class CohortSyncError
{
    [JsonPropertyName("message"), JsonRequired, Description("Shown in Mixpanel's UI. Never personal data.")]
    public string Message { get; init; } = "";

    [JsonPropertyName("code"), JsonRequired, Description("The HTTP status of the reply.")]
    public int Code { get; init; }
}
