/// The convergence proof: Mixpanel's sender model plays generated cohort histories through a
/// faulty network (requests lost before or after the receiver, duplicated, held up and reordered,
/// bursts of 5xx and 429, receiver restarts) into the in-memory receiver, and the receiver ends
/// where Mixpanel's snapshot is.
module CohortSync.Domain.Tests.ConvergenceProperties

open System
open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Mixpanel.Sender
open CohortSync.Domain.Tests.Delivery
open CohortSync.Domain.Tests.VirtualMixpanel
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit

/// Thousands of histories per property; replayable like every property here. Not quiet: each
/// run prints how many histories met a failed sync, an expired snapshot, or were not checked.
type ConvergencePropertyAttribute() as this =
    inherit PropertyAttribute(QuietOnSuccess = false, Arbitrary = [| typeof<HistoryArbitraries> |], MaxTest = 2000)

    do Replay.fromEnvironment () |> Option.iter (fun replay -> this.Replay <- replay)

/// A full copy sent after a sync had succeeded: Mixpanel's snapshot had expired.
let private snapshotExpired (run: Run<_>) =
    run.Reports
    |> List.fold (fun (succeeded, expired) r -> succeeded || r.Outcome = Succeeded, expired || (succeeded && r.Sync.Kind = Full)) (false, false)
    |> snd

/// Runs the claim for histories in which Mixpanel heard of every commit the receiver made; the
/// others (a call answered after Mixpanel gave up on it) are counted, and have their own claim below.
let orphansExcepted (run: Run<_>) (claim: unit -> unit) =
    lazy (if run.Orphaned.IsEmpty then claim ())
    |> Prop.classify (not run.Orphaned.IsEmpty) "not checked: a commit Mixpanel never heard of"
    |> Prop.classify (run.Reports |> List.exists (fun r -> r.Outcome = Failed)) "a sync failed"
    |> Prop.classify (snapshotExpired run) "a snapshot expired"

let private fullCycle = [ for _ in 1..5 -> { Changes = []; Faults = List.replicate 6 (ProxyAnswered 503) } ]

// ==== Claims ======================================================================================

[<ConvergenceProperty>]
let ``at every moment the receiver holds Mixpanel's last successful snapshot, or the snapshot of the sync in flight`` (h: History) =
    let run = runOurs h

    orphansExcepted run (fun () ->
        expectTrue "Mixpanel never pauses" (not run.Sender.IsPaused)

        for m in run.Moments do
            if m.Membership <> m.LastSuccessful && m.Membership <> m.InFlight then
                failwithf "after %A %A page %A:\nreceiver %A\nlast successful %A\nin flight %A"
                    m.Page.SessionId m.Page.Action m.Page.PageInfo m.Membership m.LastSuccessful m.InFlight)

[<ConvergenceProperty>]
let ``after one fault-free sync, the receiver equals the cohort as it is`` (h: History) (changes: CohortChange list) =
    let h = { h with Ticks = h.Ticks @ [ { Changes = changes; Faults = [] } ] }
    let run = runOurs h

    orphansExcepted run (fun () ->
        expectEqual "the last sync" Succeeded (List.last run.Reports).Outcome
        expectEqual "membership" (run.Source.Members.Keys |> Set.ofSeq) (Receiver.membership (cohortKey h) run.Receiver))

[<ConvergenceProperty>]
let ``the receiver's transitions are exactly the changes between consecutive successful snapshots, each once, in order`` (h: History) =
    let run = runOurs h

    orphansExcepted run (fun () ->
        let key = cohortKey h

        let expected =
            run.Reports
            |> List.filter (fun r -> r.Outcome = Succeeded)
            |> List.mapFold
                (fun before r ->
                    let after = r.Sync.Snapshot.Members
                    Membership.transitions (fst key) (snd key) r.Sync.SessionId before after, after)
                Set.empty
            |> fst
            |> List.concat

        expectEqual "transitions" expected (Receiver.transitions key run.Receiver))

[<ConvergenceProperty>]
let ``the same history delivered twice, or replayed from any point, ends in the same state`` (h: History) (NonNegativeInt from) =
    let run = runOurs h
    let received = run.Received
    let replayed = received |> List.skip (from % (received.Length + 1))
    expectEqual "replayed from a point" run.Receiver (deliverAll run.Receiver replayed)
    expectEqual "delivered twice" run.Receiver (deliverAll Receiver.empty (received @ received))

[<ConvergenceProperty>]
let ``pages of a sync Mixpanel gave up on change nothing once a newer session has reached the receiver`` (h: History) =
    let run = runOurs h
    // Sessions in the order of their first page's arrival: each one superseded the one before, if open.
    let arrived = run.Received |> List.map _.SessionId |> List.distinct

    let late =
        run.Reports
        |> List.filter (fun r ->
            r.Outcome = Failed
            && (arrived |> List.tryFindIndex ((=) r.Sync.SessionId) |> Option.exists (fun i -> i < arrived.Length - 1)))
        |> List.collect (fun r -> List.ofArray r.Sync.Pages)

    lazy (expectEqual "the receiver, after every page of those syncs arrives late" run.Receiver (deliverAll run.Receiver late))
    |> Prop.classify (not late.IsEmpty) "late pages of a sync given up on"

[<ConvergenceProperty>]
let ``a full copy after an expired snapshot repairs any drift, even from a commit Mixpanel never heard of`` (h: History) =
    // Two hours of failed syncs expire the snapshot (Histories.settings); the next sync is `members`.
    let h = { h with Ticks = h.Ticks @ fullCycle @ [ { Changes = []; Faults = [] } ] }
    let run = runOurs h
    let last = List.last run.Reports
    expectEqual "the last sync's kind" Full last.Sync.Kind
    expectEqual "the last sync" Succeeded last.Outcome
    expectEqual "membership" (run.Source.Members.Keys |> Set.ofSeq) (Receiver.membership (cohortKey h) run.Receiver)

// ==== The protocol's one blind spot ===============================================================

/// A commit whose every answer is lost: the receiver has the session, Mixpanel counts the sync as
/// failed and diffs the next one against the older snapshot. No receiver can tell; the next full
/// copy (an expired snapshot, after three days of failures) is what repairs it.
[<Xunit.Fact>]
let ``a commit Mixpanel never heard of leaves a user its next diff does not mention, until a full copy`` () =
    let u1 =
        { DistinctId = DistinctId.Of "u1"
          Email = null
          FirstName = null
          LastName = null
          PhoneNumber = null
          Properties = "{}" }

    let h =
        { Cohort = SourceCohort.Of(ProjectId.Of "7", CohortId.Of "42", "Power users", null, [])
          Ticks =
            [ { Changes = []; Faults = [] }
              { Changes = [ Joined u1 ]
                Faults = NoFault :: List.replicate 6 LostAfterReceiver }
              { Changes = [ Left u1.DistinctId ]; Faults = [] } ] }

    let run = runOurs h
    Xunit.Assert.Equal<SyncOutcome list>([ Succeeded; Failed; Succeeded ], run.Reports |> List.map _.Outcome)
    Xunit.Assert.Equal<SessionId list>([ SessionId.Of "sync-2" ], run.Orphaned)
    Xunit.Assert.Equal<Set<DistinctId>>(Set.singleton u1.DistinctId, Receiver.membership (cohortKey h) run.Receiver)

    let repaired = runOurs { h with Ticks = h.Ticks @ fullCycle @ [ { Changes = []; Faults = [] } ] }
    Xunit.Assert.Equal<Set<DistinctId>>(Set.empty, Receiver.membership (cohortKey h) repaired.Receiver)
