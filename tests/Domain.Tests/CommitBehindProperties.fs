/// Committing behind: a session is sealed by its last page and committed later by a committer, while
/// other pages keep arriving. Whenever the committer runs, the receiver must end where a receiver that
/// commits at once ends, apply sessions in the order they were sealed, and show nothing before its commit.
module CohortSync.Domain.Tests.CommitBehindProperties

open CohortSync.Domain
open CohortSync.Domain.SessionAssembly
open CohortSync.Mixpanel
open CohortSync.Domain.Tests.Delivery
open FsCheck
open global.Xunit

/// What a page's answer means to its sender: a sealed session's late page and a committed session's
/// late page are both "complete already, nothing changes".
let private asSenderSees (outcome: PageOutcome) =
    match outcome with
    | PageOutcome.AlreadySealed -> PageOutcome.AlreadyCommitted
    | PageOutcome.Stored
    | PageOutcome.Sealed
    | PageOutcome.Duplicate
    | PageOutcome.AlreadyCommitted
    | PageOutcome.Superseded
    | PageOutcome.ActionConflict _ -> outcome

/// The sessions committed so far, in commit order, as their transitions record them.
let private committedOrder key receiver =
    Receiver.transitions key receiver |> List.map _.SessionId |> List.distinct

/// Delivers `pages` staging only, running the committer `commits[i]` times after page i; then lets
/// the committer finish. Checks at every step what must hold whatever the moments chosen.
let private deliverBehind (key: Receiver.CohortKey) (pages: WebhookPage list) (commits: int list) =
    let commitsAt i = commits |> List.tryItem i |> Option.defaultValue 0

    let step (receiver, outcomes, sealedOrder) (i, page) =
        let outcome, staged = Receiver.stage page receiver
        let sealedOrder = if outcome = PageOutcome.Sealed then sealedOrder @ [ page.SessionId ] else sealedOrder
        expectEqual "nothing is committed by staging" (Receiver.membership key receiver) (Receiver.membership key staged)
        let committed = List.replicate (commitsAt i) () |> List.fold (fun r () -> Receiver.commitNext key r) staged
        let order = committedOrder key committed
        // Sessions that change nothing record no transition: compare on those that do.
        expectTrue
            $"commits follow the seal order: committed {order}, sealed {sealedOrder}"
            (order |> List.forall (fun s -> List.contains s sealedOrder)
             && (order = (sealedOrder |> List.filter (fun s -> List.contains s order))))
        committed, outcomes @ [ asSenderSees outcome ], sealedOrder

    let receiver, outcomes, sealedOrder = pages |> List.indexed |> List.fold step (Receiver.empty, [], [])
    let rec finish r = if Receiver.sealedCount key r = 0 then r else finish (Receiver.commitNext key r)
    finish receiver, outcomes

let private atOnce (pages: WebhookPage list) =
    let receiver, outcomes =
        pages
        |> List.fold
            (fun (r, outcomes) page ->
                let outcome, r = Receiver.receive page r
                r, outcomes @ [ asSenderSees outcome ])
            (Receiver.empty, [])
    receiver, outcomes

let private expectSameEnd key (pages: WebhookPage list) (commits: int list) =
    let behind, behindOutcomes = deliverBehind key pages commits
    let reference, referenceOutcomes = atOnce pages
    expectEqual "answers" referenceOutcomes behindOutcomes
    expectEqual "membership" (Receiver.membership key reference) (Receiver.membership key behind)
    expectEqual "transitions" (Receiver.transitions key reference) (Receiver.transitions key behind)

[<DomainProperty>]
let ``committing behind, whenever the committer runs, ends where committing at once ends``
    (mix: Interleaving)
    (commits: NonNegativeInt list)
    =
    let key = cohortOf mix.All.Head
    expectSameEnd key mix.WithIntruders (commits |> List.map (fun (NonNegativeInt n) -> n % 3))

// ==== Small scopes, every case =====================================================================

let private user id : Member =
    { DistinctId = DistinctId.Of id
      Email = null
      FirstName = null
      LastName = null
      PhoneNumber = null
      Properties = "{}" }

let private smallPage session action count total (ids: string list) : WebhookPage =
    { Action = action
      ProjectId = ProjectId.Of "p"
      CohortId = CohortId.Of "c"
      CohortName = null
      CohortDescription = null
      SessionId = SessionId.Of session
      PageInfo = { TotalPages = total; PageCount = count }
      Members = ids |> List.map user |> Array.ofList }

/// Every order of a list's items (items may repeat; equal orders are listed once).
let rec private orders (items: 'T list) : 'T list list =
    match items with
    | [] -> [ [] ]
    | _ ->
        items
        |> List.indexed
        |> List.collect (fun (i, x) ->
            let rest = items |> List.indexed |> List.filter (fun (j, _) -> j <> i) |> List.map snd
            orders rest |> List.map (fun o -> x :: o))
        |> List.distinct

[<Fact>]
let ``every interleaving of two sessions of two pages with one page sent twice, and every moment of commit, ends where committing at once ends``
    ()
    =
    // A full copy of {a, b} and a diff that adds c and removes a; either may arrive first.
    let full = [ smallPage "s1" Members 1 2 [ "a" ]; smallPage "s1" Members 2 2 [ "b" ] ]
    let diff = [ smallPage "s2" AddMembers 1 1 [ "c" ]; smallPage "s2" RemoveMembers 1 1 [ "a" ] ]
    let pages = full @ diff
    let key = ProjectId.Of "p", CohortId.Of "c"
    let mutable cases = 0

    for repeated in pages do
        for order in orders (repeated :: pages) do
            // After each of the 5 deliveries the committer runs once or not at all: 32 patterns.
            for pattern in 0 .. 31 do
                let commits = [ for i in 0..4 -> (pattern >>> i) &&& 1 ]
                expectSameEnd key order commits
                cases <- cases + 1

    // 4 pages to repeat × 60 distinct orders of 5 deliveries × 32 commit patterns.
    Assert.Equal(4 * 60 * 32, cases)
