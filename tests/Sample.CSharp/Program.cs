using System.Text;
using CohortSync.Domain;
using static CohortSync.Domain.SessionAssembly;

// One page of a full sync, as Mixpanel posts it to the webhook.
const string body = """
    {
      "action": "members",
      "parameters": {
        "mixpanel_project_id": "1234",
        "mixpanel_cohort_id": "5678",
        "mixpanel_cohort_name": "Power users",
        "mixpanel_session_id": "session-1",
        "page_info": { "total_pages": 1, "page_count": 1 },
        "members": [
          { "mixpanel_distinct_id": "u1", "email": "ada@example.com", "first_name": "Ada" },
          { "mixpanel_distinct_id": "u2", "plan": "pro" }
        ]
      }
    }
    """;

if (!WebhookBody.TryParse(Encoding.UTF8.GetBytes(body), out var page, out var problems))
{
    foreach (var problem in problems)
        Console.Error.WriteLine(problem);
    return 1;
}

Console.WriteLine($"page: {page.Action} {page.PageInfo.PageCount}/{page.PageInfo.TotalPages} of session {page.SessionId} (cohort {page.CohortName})");
foreach (var member in page.Members)
    Console.WriteLine($"member: {member.DistinctId} email={member.Email ?? "(none)"} properties={member.Properties}");

// A cohort never seen before: the page opens its session and, being the only page, seals it; with
// no older session waiting, the session can be committed at once.
var decision = Decisions.Decide(page, State.Empty);
var commit = Decisions.CommitSealedNow(decision, State.Empty);
var state = Fold.Fold(State.Empty, decision.Events.Concat(commit));

Console.WriteLine($"outcome: {decision.Outcome} (HTTP {decision.Outcome.HttpStatus})");
Console.WriteLine($"events: {string.Join(", ", decision.Events.Concat(commit).Select(e => e.GetType().Name))}");
Console.WriteLine(state.TryGetSession(page.SessionId, out var session)
    ? $"session: {session.SessionId} is {session.Status} ({session.Kind})"
    : "session: not found");
return 0;
