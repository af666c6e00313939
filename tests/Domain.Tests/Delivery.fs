/// Runs pages through the in-memory receiver, and states what should come of them.
module CohortSync.Domain.Tests.Delivery

open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Domain.SessionAssembly

/// Fails the property with both values: FsCheck reports the exception with the generated input.
let expectEqual (what: string) (expected: 'T) (actual: 'T) =
    if expected <> actual then
        failwithf "%s\nexpected: %A\nactual:   %A" what expected actual

let expectTrue (what: string) (condition: bool) =
    if not condition then failwith what

/// One page received: its outcome and the receiver it left.
type Step =
    { Page: WebhookPage
      Outcome: PageOutcome
      After: Receiver.Receiver }

/// Receives the pages one after another.
let deliver (receiver: Receiver.Receiver) (pages: WebhookPage seq) : Step list =
    pages
    |> Seq.scan
        (fun (previous: Step option) page ->
            let before = previous |> Option.map _.After |> Option.defaultValue receiver
            let outcome, after = Receiver.receive page before
            Some { Page = page; Outcome = outcome; After = after })
        None
    |> Seq.choose id
    |> List.ofSeq

/// The receiver once every page is in.
let deliverAll (receiver: Receiver.Receiver) (pages: WebhookPage seq) =
    pages |> Seq.fold (fun r p -> Receiver.receive p r |> snd) receiver

/// The receiver after each session's pages arrived once, in order.
let deliverSessions (receiver: Receiver.Receiver) (sessions: SentSession seq) =
    sessions |> Seq.fold (fun r s -> deliverAll r s.Pages) receiver

let cohortOf (s: SentSession) : Receiver.CohortKey =
    let first = s.Pages.Head
    first.ProjectId, first.CohortId

let membershipOf (s: SentSession) receiver = Receiver.membership (cohortOf s) receiver

let transitionsOf (s: SentSession) receiver = Receiver.transitions (cohortOf s) receiver

/// The distinct ids of every page of one action of a session.
let idsOf action (s: SentSession) =
    s.Pages
    |> Seq.filter (fun p -> p.Action = action)
    |> Seq.collect _.Members
    |> Seq.map _.DistinctId
    |> Set.ofSeq

/// The specification: what committing the whole session does to a membership.
let specification (before: Set<DistinctId>) (s: SentSession) : Set<DistinctId> =
    match s.Kind with
    | Full -> Membership.commitFull before (idsOf Members s)
    | Diff -> Membership.commitDiff before (idsOf AddMembers s) (idsOf RemoveMembers s)

/// A page's place in its session, while its action's total_pages stays the same.
let pageKey (p: WebhookPage) = p.Action, p.PageInfo.PageCount

/// What each page of a schedule must be told: stored when new, duplicate when repeated, committed
/// on the last new page, already committed after that.
let expectedOutcomes (s: SentSession) (schedule: WebhookPage list) : PageOutcome list =
    let needed = s.Pages |> List.map pageKey |> set

    schedule
    |> List.mapFold
        (fun (seen: Set<_>) page ->
            let key = pageKey page

            if seen = needed then PageOutcome.AlreadyCommitted, seen
            elif seen.Contains key then PageOutcome.Duplicate, seen
            elif seen.Add key = needed then PageOutcome.Sealed, seen.Add key
            else PageOutcome.Stored, seen.Add key)
        Set.empty
    |> fst
