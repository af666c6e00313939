namespace CohortSync.Host.Api;

/// <summary>The read API's parameters as its OpenAPI document describes them, where several operations share one.</summary>
static class ParameterText
{
    public const string ProjectId = "The Mixpanel project id (mixpanel_project_id), as the webhook received it.";
    public const string CohortId = "The Mixpanel cohort id (mixpanel_cohort_id), unique within its project.";
    public const string DistinctId = "The user's Mixpanel distinct id (mixpanel_distinct_id).";
    public const string After = "The next of the previous page, to continue after it; left out, the first page.";
}
