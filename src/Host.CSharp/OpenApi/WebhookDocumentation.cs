using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace CohortSync.Host.OpenApi;

/// <summary>The webhook's OpenAPI description: Mixpanel's body in, Mixpanel's reply out, status by status.</summary>
public static class WebhookDocumentation
{
    /// <summary>What each status means to Mixpanel; the reply's <c>error.code</c> always equals it.</summary>
    static readonly (int Status, string Meaning)[] Replies =
    [
        (StatusCodes.Status200OK,
            "Stored, committed, or a harmless repeat (a duplicate page, a page of a committed or superseded session). Sent only once the page is durably stored."),
        (StatusCodes.Status400BadRequest,
            "Not JSON, wrong shape or invalid values: every problem, with its JSON path, in error.message. Pauses Mixpanel's sync."),
        (StatusCodes.Status401Unauthorized, "Missing or wrong Basic credentials (with WWW-Authenticate). Pauses Mixpanel's sync."),
        (StatusCodes.Status403Forbidden, "These credentials may not sync this mixpanel_project_id. Pauses Mixpanel's sync."),
        (StatusCodes.Status409Conflict,
            "The page's action does not fit its session (a members page in a diff session, or the reverse); nothing changed. Mixpanel retries at its next sync."),
        (StatusCodes.Status413PayloadTooLarge, "The body is over Webhook:MaxBodyBytes."),
        (StatusCodes.Status500InternalServerError, "An unexpected fault (details only in the service's log); a retry may succeed."),
        (StatusCodes.Status503ServiceUnavailable, "The database is unreachable or overloaded: retry after Retry-After seconds."),
    ];

    const string ExamplePage = """
        {
          "action": "members",
          "parameters": {
            "mixpanel_project_id": "1234", "mixpanel_cohort_id": "5678",
            "mixpanel_cohort_name": "Churn risk", "mixpanel_cohort_description": "",
            "mixpanel_session_id": "a1b2c3",
            "page_info": { "total_pages": 3, "page_count": 1 },
            "members": [ { "mixpanel_distinct_id": "u1", "email": "u1@example.com", "first_name": "Ada",
                           "last_name": "L", "phone_number": "555", "plan": "pro" } ]
          }
        }
        """;

    public static RouteHandlerBuilder DescribeWebhook(this RouteHandlerBuilder endpoint)
    {
        endpoint
            .WithTags("Webhook")
            .WithSummary("Receive one page of a Mixpanel cohort sync")
            .WithDescription(
                """
                Mixpanel's custom-webhook cohort sync posts one page per call. Pages are staged and a session is
                applied whole, in one transaction, once all of its pages are in: a `members` session replaces the
                cohort's membership with the union of its pages; a diff session (all `add_members` and all
                `remove_members` pages) adds, then removes. Every reply is `{action, status, error?}` with the HTTP
                status equal to `error.code`.
                """)
            .Accepts<CohortSyncPage>("application/json")
            .WithMetadata(new BasicAuthentication());
        foreach (var (status, _) in Replies)
            endpoint.Produces<CohortSyncReply>(status, "application/json");

        return endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
                body.Example = JsonNode.Parse(ExamplePage);
            foreach (var (status, meaning) in Replies)
                if (operation.Responses?.TryGetValue(status.ToString(), out var response) == true && response is OpenApiResponse r)
                    r.Description = meaning;
            return Task.CompletedTask;
        });
    }
}
