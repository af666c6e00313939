/// Mixpanel, the network and a receiver in one process, in virtual time: the sender model plays
/// every tick of a history through `SyncRun` (the code `simulate` runs), and every request that
/// reaches the receiver is recorded with what the sender knew at that moment.
module CohortSync.Domain.Tests.VirtualMixpanel

open System
open System.Threading.Tasks
open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Mixpanel.Sender
open CohortSync.Mixpanel.SyncRun

/// A receiver under test: ours, or an alternative put on trial.
type ReceiverModel<'R> =
    { Empty: 'R
      /// Handles one request: the HTTP status, and the receiver after it.
      Receive: WebhookPage -> 'R -> int * 'R
      Membership: 'R -> Set<DistinctId> }

/// One request handled by the receiver, and what was true just after it.
type Moment =
    { Page: WebhookPage
      Membership: Set<DistinctId>
      /// Mixpanel's last successful snapshot (empty before the first).
      LastSuccessful: Set<DistinctId>
      /// The snapshot the sync under way would store.
      InFlight: Set<DistinctId> }

/// A history played to its end.
type Run<'R> =
    { Receiver: 'R
      Sender: CohortSender
      Source: SourceCohort
      Reports: SyncReport list
      /// Every request the receiver handled, in order.
      Moments: Moment list
      /// Sessions the receiver committed while Mixpanel counted their sync as failed: the one
      /// thing the protocol gives a receiver no way to know or undo.
      Orphaned: SessionId list }

    member this.Received = this.Moments |> List.map _.Page

let private snapshotOf (sender: CohortSender) =
    sender.LastSuccessful |> Option.map _.Members |> Option.defaultValue Set.empty

/// Plays a history against a receiver. `isCommitted` tells whether the receiver committed a
/// session (to spot orphaned commits).
let run (model: ReceiverModel<'R>) (isCommitted: SessionId -> 'R -> bool) (history: History) : Run<'R> =
    let receiver = ref model.Empty
    let sender = ref (CohortSender.Start "sync-")
    let inFlight = ref Set.empty
    let faults = ref []
    let moments = ResizeArray<Moment>()

    let world =
        { new IWorld with
            member _.Post page =
                let status, after = model.Receive page receiver.Value
                receiver.Value <- after

                moments.Add
                    { Page = page
                      Membership = model.Membership after
                      LastSuccessful = snapshotOf sender.Value
                      InFlight = inFlight.Value }

                Task.FromResult(Answer.Status status)

            member _.Wait _ = Task.CompletedTask

            member _.NextFault() =
                match faults.Value with
                | f :: rest ->
                    faults.Value <- rest
                    f
                | [] -> NoFault }

    let network = Network world

    let source, reports, orphaned =
        history.Ticks
        |> List.indexed
        |> List.fold
            (fun (source, reports, orphaned) (i, tick) ->
                let source = SourceCohort.applyAll source tick.Changes

                if sender.Value.IsPaused then
                    source, reports, orphaned
                else
                    let now = Histories.start + Histories.settings.SyncInterval * float i
                    faults.Value <- tick.Faults
                    inFlight.Value <- source.Members.Keys |> Set.ofSeq
                    let played = (nextSyncAsync Histories.settings network 1 now sender.Value source).Result
                    sender.Value <- played.Sender
                    let report = played.Report

                    let orphaned =
                        if report.Outcome <> Succeeded && isCommitted report.Sync.SessionId receiver.Value then
                            report.Sync.SessionId :: orphaned
                        else
                            orphaned

                    source, report :: reports, orphaned)
            (history.Cohort, [], [])

    { Receiver = receiver.Value
      Sender = sender.Value
      Source = source
      Reports = List.rev reports
      Moments = List.ofSeq moments
      Orphaned = List.rev orphaned }

// ==== Our receiver ================================================================================

let cohortKey (h: History) : Receiver.CohortKey = h.Cohort.ProjectId, h.Cohort.CohortId

let ours (h: History) : ReceiverModel<Receiver.Receiver> =
    { Empty = Receiver.empty
      Receive =
        fun page r ->
            let outcome, after = Receiver.receive page r
            outcome.HttpStatus, after
      Membership = Receiver.membership (cohortKey h) }

let private committed (h: History) (sessionId: SessionId) (r: Receiver.Receiver) =
    r.Cohorts
    |> Map.tryFind (cohortKey h)
    |> Option.bind (fun c -> SessionAssembly.State.tryFind sessionId c.Sessions)
    |> Option.exists (fun s -> s.Status = SessionAssembly.SessionStatus.Committed)

/// A history played against our in-memory receiver.
let runOurs (h: History) = run (ours h) (committed h) h

/// Mixpanel's last successful snapshot at the end of a run.
let lastSuccessful (r: Run<_>) = snapshotOf r.Sender

// ==== A receiver elsewhere ========================================================================

/// A receiver reached through functions: the real host over HTTP, in the host's tests. `post`
/// answers the HTTP status, `members` reads the committed membership.
let remote (post: Func<WebhookPage, int>) (members: Func<string seq>) : ReceiverModel<unit> =
    { Empty = ()
      Receive = fun page () -> post.Invoke page, ()
      Membership = fun () -> members.Invoke() |> Seq.map DistinctId.Of |> Set.ofSeq }

/// A history played against a remote receiver; `isCommitted` reads a session's state from it.
[<CompiledName("RunRemote")>]
let runRemote (post: Func<WebhookPage, int>) (members: Func<string seq>) (isCommitted: Func<SessionId, bool>) (history: History) =
    run (remote post members) (fun s () -> isCommitted.Invoke s) history
