/// Session assembly through the in-memory receiver (the system), against `Membership` (the
/// specification): whatever order and repetition the pages come in, a session commits whole, once.
module CohortSync.Domain.Tests.SessionAssemblyProperties

open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Domain.SessionAssembly
open CohortSync.Domain.Tests.Delivery
open System.Threading.Tasks
open FsCheck

let private lastReceiver (start: Receiver.Receiver) (steps: Step list) =
    steps |> List.tryLast |> Option.map _.After |> Option.defaultValue start

/// Each step paired with the receiver it started from.
let private withPrevious (start: Receiver.Receiver) (steps: Step list) =
    List.zip (start :: (steps |> List.map _.After) |> List.truncate steps.Length) steps

// ==== Order, repetition, and the moment of commit =================================================

[<DomainProperty>]
let ``any order and any duplication of a session's pages commits the same membership`` (run: CohortRun) =
    run.Sessions
    |> List.fold
        (fun (scheduled, inOrder, expected) s ->
            let scheduled = deliverAll scheduled s.Schedule
            let inOrder = deliverAll inOrder s.Session.Pages
            let expected = specification expected s.Session
            expectEqual "membership, against the specification" expected (membershipOf s.Session scheduled)
            expectEqual "receiver, against the pages delivered in order once" inOrder scheduled
            scheduled, inOrder, expected)
        (Receiver.empty, Receiver.empty, Set.empty)
    |> ignore

[<DomainProperty>]
let ``a session commits exactly once, on its last distinct page`` (run: CohortRun) =
    run.Sessions
    |> List.fold
        (fun receiver s ->
            let steps = deliver receiver s.Schedule
            let outcomes = steps |> List.map _.Outcome
            expectEqual "commits" 1 (outcomes |> List.filter ((=) PageOutcome.Sealed) |> List.length)
            expectEqual "outcomes" (expectedOutcomes s.Session s.Schedule) outcomes
            lastReceiver receiver steps)
        Receiver.empty
    |> ignore

[<DomainProperty>]
let ``nothing of a session is visible before its last page`` (run: CohortRun) =
    run.Sessions
    |> List.fold
        (fun receiver s ->
            let before = membershipOf s.Session receiver
            let transitionsBefore = transitionsOf s.Session receiver
            let steps = deliver receiver s.Schedule
            let commit = steps |> List.findIndex (fun step -> step.Outcome = PageOutcome.Sealed)

            steps
            |> List.iteri (fun i step ->
                let membership, transitions = membershipOf s.Session step.After, transitionsOf s.Session step.After

                if i < commit then
                    expectEqual $"membership after page {i}, before the commit" before membership
                    expectEqual $"transitions after page {i}, before the commit" transitionsBefore transitions
                else
                    expectEqual $"membership after page {i}" (specification before s.Session) membership)

            lastReceiver receiver steps)
        Receiver.empty
    |> ignore

[<DomainProperty>]
let ``redelivery after commit changes nothing`` (run: CohortRun) (NonEmptyArray picks: NonEmptyArray<NonNegativeInt>) =
    let committed = deliverSessions Receiver.empty (run.Sessions |> List.map _.Session)
    let pages = run.Sessions |> List.collect _.Session.Pages |> Array.ofList

    picks
    |> Array.fold
        (fun receiver (NonNegativeInt pick) ->
            let outcome, after = Receiver.receive pages[pick % pages.Length] receiver
            expectEqual "outcome" PageOutcome.AlreadyCommitted outcome
            expectEqual "receiver" committed after
            after)
        committed
    |> ignore

// ==== Sessions that never commit, or start over ===================================================

[<DomainProperty>]
let ``superseded sessions never touch state`` (x: Interrupted) =
    let start = deliverSessions Receiver.empty x.Committed
    let before = membershipOf x.Older start
    let firstPart = deliver start x.OlderFirstPart

    for step in firstPart do
        let staged = step.Outcome = PageOutcome.Stored || step.Outcome = PageOutcome.Duplicate
        expectTrue $"the older session's first part is staged, not {step.Outcome}" staged
        expectEqual "membership while the older session is open" before (membershipOf x.Older step.After)

    let afterFirstPart = lastReceiver start firstPart
    let rest = deliver afterFirstPart (x.NewerFirstPage :: x.Tail)
    let staged = (lastReceiver afterFirstPart rest).Cohorts[cohortOf x.Older].Staged
    let olderStaged = staged |> Map.exists (fun (s, _, _) _ -> s = x.Older.SessionId)
    expectTrue "the older session's staged pages are dropped" (not olderStaged)

    rest
    |> withPrevious afterFirstPart
    |> List.fold
        (fun newerCommitted (previous, step) ->
            let newerCommitted = newerCommitted || step.Outcome = PageOutcome.Sealed

            if step.Page.SessionId = x.Older.SessionId then
                expectEqual "outcome of the older session's page" PageOutcome.Superseded step.Outcome
                expectEqual "receiver after the older session's page" previous step.After

            let expected = if newerCommitted then specification before x.Newer else before
            expectEqual "membership" expected (membershipOf x.Older step.After)
            newerCommitted)
        false
    |> ignore

[<DomainProperty>]
let ``a changed total_pages restarts the assembly of that action`` (x: Restarted) =
    let start = deliverSessions Receiver.empty x.Earlier
    let before = membershipOf x.Next.Session start
    let stale = deliver start x.Stale

    for step in stale do
        expectEqual "outcome of a stale page" PageOutcome.Stored step.Outcome

    let steps = deliver (lastReceiver start stale) x.Next.Schedule
    let outcomes = steps |> List.map _.Outcome
    expectEqual "outcomes once total_pages changed" (expectedOutcomes x.Next.Session x.Next.Schedule) outcomes
    let membership = membershipOf x.Next.Session (lastReceiver start steps)
    expectEqual "membership, without the stale pages" (specification before x.Next.Session) membership

// ==== Transitions ==================================================================================

[<DomainProperty>]
let ``the transitions of a run of sessions equal the differences between consecutive states, each change exactly once``
    (run: CohortRun)
    =
    let final =
        run.Sessions
        |> List.fold
            (fun receiver s ->
                let before = membershipOf s.Session receiver
                let earlier = transitionsOf s.Session receiver
                let after = deliverAll receiver s.Schedule
                let now = membershipOf s.Session after
                let all = transitionsOf s.Session after
                let made = all |> List.skip earlier.Length
                let users kind = made |> List.filter (fun t -> t.Kind = kind) |> List.map _.DistinctId |> List.sort

                expectEqual "earlier transitions are kept" earlier (all |> List.truncate earlier.Length)
                expectEqual "membership" (specification before s.Session) now
                expectEqual "entered" (Set.difference now before |> Set.toList) (users Entered)
                expectEqual "exited" (Set.difference before now |> Set.toList) (users Exited)

                for t in made do
                    expectEqual "transition's session" s.Session.SessionId t.SessionId
                    expectEqual "transition's cohort" (cohortOf s.Session) (t.ProjectId, t.CohortId)

                after)
            Receiver.empty

    // Over the whole run, each user alternates entering and exiting, and ends where membership says.
    match run.Sessions with
    | [] -> ()
    | first :: _ ->
        let membership = membershipOf first.Session final

        for user, ts in transitionsOf first.Session final |> List.groupBy _.DistinctId do
            let kinds = ts |> List.map _.Kind
            let alternating = kinds |> List.mapi (fun i _ -> if i % 2 = 0 then Entered else Exited)
            expectEqual $"transitions of {user}" alternating kinds
            expectEqual $"{user} is a member" (List.last kinds = Entered) (membership.Contains user)

[<DomainProperty>]
let ``re-adding a present user or removing an absent one yields no transition`` (run: CohortRun) =
    run.Sessions
    |> List.fold
        (fun receiver s ->
            let before = membershipOf s.Session receiver
            let earlier = transitionsOf s.Session receiver
            let after = deliverAll receiver s.Schedule

            if s.Session.Kind = Diff then
                let added, removed = idsOf AddMembers s.Session, idsOf RemoveMembers s.Session
                let reAdded = Set.difference (Set.intersect added before) removed
                let absentRemoved = Set.difference removed before
                let quiet = Set.union reAdded absentRemoved
                let made = transitionsOf s.Session after |> List.skip earlier.Length

                for t in made do
                    let unexpected = quiet.Contains t.DistinctId
                    expectTrue $"{t.DistinctId} was re-added or removed while absent, yet {t.Kind}" (not unexpected)

                for user in quiet do
                    expectEqual $"{user} is a member" (before.Contains user) ((membershipOf s.Session after).Contains user)

            after)
        Receiver.empty
    |> ignore

// ==== Diffs and actions ============================================================================

[<DomainProperty>]
let ``a diff commits only when both add_members and remove_members are complete`` (x: PartialDiff) =
    let start = deliverSessions Receiver.empty x.Prior
    let before = membershipOf x.Diff start
    let firstPart = deliver start x.FirstPart

    for step in firstPart do
        expectTrue "no commit while one action lacks pages" (step.Outcome <> PageOutcome.Sealed)
        expectEqual "membership while one action lacks pages" before (membershipOf x.Diff step.After)

    let rest = deliver (lastReceiver start firstPart) x.Withheld
    let outcomes = (firstPart @ rest) |> List.map _.Outcome
    expectEqual "outcomes" (expectedOutcomes x.Diff (x.FirstPart @ x.Withheld)) outcomes
    expectEqual "membership" (specification before x.Diff) (membershipOf x.Diff (lastReceiver start rest))

[<DomainProperty>]
let ``an action of the other kind is refused without changing state`` (x: Conflicting) =
    let start = deliverAll (deliverSessions Receiver.empty x.Settled) x.Delivered
    let outcome, after = Receiver.receive x.Intruder start

    match outcome with
    | PageOutcome.ActionConflict _ -> ()
    | PageOutcome.Stored
    | PageOutcome.Sealed
    | PageOutcome.Duplicate
    | PageOutcome.AlreadySealed
    | PageOutcome.AlreadyCommitted
    | PageOutcome.Superseded -> failwithf "expected an action conflict, got %O" outcome

    expectEqual "receiver" start after

// ==== Interleaved sessions =========================================================================

[<DomainProperty>]
let ``under any interleaving of sessions, membership follows the committed sessions in commit order`` (mix: Interleaving) =
    let byId = mix.All |> List.map (fun s -> s.SessionId, s) |> Map.ofList
    let first = mix.All.Head

    deliver Receiver.empty mix.Pages
    |> List.fold
        (fun (expected, committed: Set<SessionId>) step ->
            let expected, committed =
                if step.Outcome = PageOutcome.Sealed then
                    expectTrue $"{step.Page.SessionId} commits only once" (not (committed.Contains step.Page.SessionId))
                    specification expected byId[step.Page.SessionId], committed.Add step.Page.SessionId
                else
                    expected, committed

            expectEqual "membership" expected (membershipOf first step.After)
            expected, committed)
        (Set.empty, Set.empty)
    |> ignore

[<DomainProperty>]
let ``decide yields no events for a page already reflected in the state`` (mix: Interleaving) =
    mix.WithIntruders
    |> List.fold
        (fun state page ->
            let decided = Decisions.decide page state
            let state = Fold.fold state decided.Events
            let again = Decisions.decide page state
            if again.Events.Length > 0 then
                failwithf "deciding %A again gave events %A" page again.Events

            expectTrue $"accepted again: {again.Outcome}" (not again.Outcome.IsAccepted)
            state)
        Fold.initial
    |> ignore

// ==== Abandonment, and the effects a host carries out ==============================================

[<DomainProperty>]
let ``abandoning gives up open sessions only, once, and their later pages change nothing``
    (mix: Interleaving)
    (NonNegativeInt cut)
    =
    let pages = mix.WithIntruders
    let cut = cut % (pages.Length + 1)
    let decideAll state ps =
        ps |> List.fold (fun st p -> Fold.fold st (Decisions.decide p st).Events) state

    let before = decideAll Fold.initial (pages |> List.truncate cut)
    let ids = mix.All |> List.map _.SessionId
    let events = Decisions.abandon ids before

    let openIds =
        before.Sessions.Values |> Seq.filter (fun s -> s.Status = Open) |> Seq.map _.SessionId |> set

    expectEqual "abandoned" (openIds |> Set.map SessionAbandoned) (set events)
    expectEqual "one event each" (Set.count openIds) events.Length
    let after = Fold.fold before events
    expectEqual "abandoning again" [||] (Decisions.abandon ids after)

    for page in pages |> List.skip cut do
        if openIds.Contains page.SessionId then
            let decided = Decisions.decide page after
            expectEqual $"outcome of a page of abandoned {page.SessionId}" PageOutcome.Superseded decided.Outcome
            expectEqual "events" [||] decided.Events

/// Records which member of the effects each event reached, in order.
type private RecordedEffects() =
    let calls = ResizeArray<Event>()
    member _.Calls = List.ofSeq calls

    interface ISessionEffects with
        member _.SessionOpened(id, kind) = calls.Add(SessionOpened(id, kind)); Task.CompletedTask
        member _.SessionSuperseded(id, by) = calls.Add(SessionSuperseded(id, by)); Task.CompletedTask
        member _.SessionAbandoned id = calls.Add(SessionAbandoned id); Task.CompletedTask
        member _.ActionRestarted(id, action, total) = calls.Add(ActionRestarted(id, action, total)); Task.CompletedTask
        member _.PageStored(id, action, info) = calls.Add(PageStored(id, action, info)); Task.CompletedTask
        member _.SessionSealed(id, kind) = calls.Add(SessionSealed(id, kind)); Task.CompletedTask
        member _.SessionCommitted(id, kind) = calls.Add(SessionCommitted(id, kind)); Task.CompletedTask

[<DomainProperty>]
let ``every event reaches its own effect, in the order decided`` (mix: Interleaving) =
    mix.WithIntruders
    |> List.fold
        (fun state page ->
            let decided = Decisions.decide page state
            let effects = RecordedEffects()
            (Effects.perform effects decided.Events).Wait()
            expectEqual "effects carried out" (List.ofArray decided.Events) effects.Calls
            Fold.fold state decided.Events)
        Fold.initial
    |> ignore
