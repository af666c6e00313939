/// Mixpanel's side of a cohort sync, as its documentation describes it (see docs/protocol.md): what a
/// sync sends, how a call's answer is judged, and what a finished sync leaves behind. Pure: time,
/// randomness and the network enter as parameters, so the same model drives the convergence
/// properties (virtual time, in-memory receiver) and the `simulate` command (real HTTP).
module CohortSync.Mixpanel.Sender

open System
open System.Collections.Generic
open CohortSync.Domain

// ==== Settings ====================================================================================

/// How the sender behaves. `Mixpanel` holds the documented values.
type Settings =
    {
        /// Users per call ("1000 users per call to add_members or remove_members").
        PageSize: int
        /// Time between two syncs of a cohort (30 minutes).
        SyncInterval: TimeSpan
        /// A snapshot older than this is not diffed against: the next sync sends `members` (3 days).
        SnapshotLifetime: TimeSpan
        /// Retries of a call answered 5xx or 429, or not answered ("5 times over 60 secs").
        Retries: int
        /// The first backoff; each retry waits twice as long as the one before (2+4+8+16+32 s = 62 s).
        FirstBackoff: TimeSpan
    }

    static member Mixpanel =
        { PageSize = 1000
          SyncInterval = TimeSpan.FromMinutes 30.0
          SnapshotLifetime = TimeSpan.FromDays 3.0
          Retries = 5
          FirstBackoff = TimeSpan.FromSeconds 2.0 }

// ==== The cohort at the source ====================================================================

/// A cohort as Mixpanel holds it: who is in it now, with their exported profiles.
type SourceCohort =
    { ProjectId: ProjectId
      CohortId: CohortId
      Name: string option
      Description: string option
      Members: Map<DistinctId, Member>
      /// The last profile of users who left: `remove_members` pages carry it, as Mixpanel's do.
      Departed: Map<DistinctId, Member> }

    /// For C# callers.
    static member Of(projectId, cohortId, name: string, description: string, members: Member seq) =
        { ProjectId = projectId
          CohortId = cohortId
          Name = Option.ofObj name
          Description = Option.ofObj description
          Members = members |> Seq.map (fun m -> m.DistinctId, m) |> Map.ofSeq
          Departed = Map.empty }

/// What happens to a cohort between two syncs.
type CohortChange =
    /// The user now matches the cohort's filter.
    | Joined of Member
    /// The user no longer matches it.
    | Left of DistinctId
    /// A member's exported profile changed (a diff does not send it; a full copy does).
    | ProfileChanged of Member

module SourceCohort =

    [<CompiledName("Apply")>]
    let apply (cohort: SourceCohort) (change: CohortChange) : SourceCohort =
        match change with
        | Joined m ->
            { cohort with
                Members = cohort.Members |> Map.add m.DistinctId m
                Departed = cohort.Departed |> Map.remove m.DistinctId }
        | Left id ->
            match cohort.Members.TryFind id with
            | Some m ->
                { cohort with
                    Members = cohort.Members |> Map.remove id
                    Departed = cohort.Departed |> Map.add id m }
            | None -> cohort
        | ProfileChanged m when cohort.Members.ContainsKey m.DistinctId ->
            { cohort with Members = cohort.Members |> Map.add m.DistinctId m }
        | ProfileChanged _ -> cohort

    [<CompiledName("ApplyAll")>]
    let applyAll (cohort: SourceCohort) (changes: CohortChange seq) = Seq.fold apply cohort changes

// ==== Syncs =======================================================================================

/// The cohort as of a sync that succeeded: what later diffs are computed against.
type Snapshot =
    { Members: Set<DistinctId>
      /// When the sync that took it started.
      TakenAt: DateTimeOffset }

/// One sync, planned: a new session, and its pages in the order they are sent.
type PlannedSync =
    { SessionId: SessionId
      Kind: SessionKind
      StartedAt: DateTimeOffset
      Pages: WebhookPage array
      /// What the snapshot becomes if every page is accepted.
      Snapshot: Snapshot }

/// How a sync ended, for the sender.
type SyncOutcome =
    /// Every page was accepted: the snapshot is stored.
    | Succeeded
    /// A call still failed after its retries: the snapshot stays; the next sync starts from the top.
    | Failed
    /// A call was answered 400, 401, 403 or 404: the cohort's syncs stop until someone resumes them.
    | Paused of Status: int

/// The sender's memory of one cohort.
type CohortSender =
    { LastSuccessful: Snapshot option
      IsPaused: bool
      /// Syncs started so far; numbers the sessions.
      Syncs: int
      /// Makes session ids unique across runs (Mixpanel's are opaque strings).
      SessionPrefix: string }

    /// The members of the last successful snapshot (none before a sync succeeds): what the sender
    /// believes the receiver holds.
    member this.LastSuccessfulMembers: IReadOnlyCollection<DistinctId> =
        match this.LastSuccessful with
        | Some s -> s.Members
        | None -> Set.empty

    static member Start(sessionPrefix: string) =
        { LastSuccessful = None
          IsPaused = false
          Syncs = 0
          SessionPrefix = sessionPrefix }

module Sync =

    let private pagesOf (settings: Settings) (cohort: SourceCohort) sessionId action (members: Member array) =
        let chunks =
            if members.Length = 0 then [| [||] |] else Array.chunkBySize settings.PageSize members

        chunks
        |> Array.mapi (fun i chunk ->
            { Action = action
              ProjectId = cohort.ProjectId
              CohortId = cohort.CohortId
              CohortName = Option.toObj cohort.Name
              CohortDescription = Option.toObj cohort.Description
              SessionId = sessionId
              PageInfo = { TotalPages = chunks.Length; PageCount = i + 1 }
              Members = chunk })

    /// `members` on the first sync and when the last successful snapshot has expired; else a diff.
    [<CompiledName("KindAt")>]
    let kindAt (settings: Settings) (now: DateTimeOffset) (sender: CohortSender) : SessionKind =
        match sender.LastSuccessful with
        | Some s when now - s.TakenAt <= settings.SnapshotLifetime -> Diff
        | _ -> Full

    /// The next sync of a cohort: a full copy, or `add_members` then `remove_members` against the
    /// last successful snapshot, both sent even when empty. Users leaving are sent with their last
    /// profile (Mixpanel's `remove_members` carry email and names too), or with their id alone.
    [<CompiledName("Plan")>]
    let plan (settings: Settings) (now: DateTimeOffset) (sender: CohortSender) (cohort: SourceCohort) : PlannedSync =
        let sessionId = SessionId.Of $"{sender.SessionPrefix}{sender.Syncs + 1}"
        let current = cohort.Members |> Map.keys |> Set.ofSeq
        let kind = kindAt settings now sender

        let pages =
            match kind, sender.LastSuccessful with
            | Diff, Some before ->
                let added = Set.difference current before.Members |> Seq.map (fun id -> cohort.Members[id])
                let leaving id =
                    cohort.Departed
                    |> Map.tryFind id
                    |> Option.defaultValue
                        { DistinctId = id
                          Email = null
                          FirstName = null
                          LastName = null
                          PhoneNumber = null
                          Properties = "{}" }

                let removed = Set.difference before.Members current |> Seq.map leaving

                Array.append
                    (pagesOf settings cohort sessionId AddMembers (Array.ofSeq added))
                    (pagesOf settings cohort sessionId RemoveMembers (Array.ofSeq removed))
            | _ -> pagesOf settings cohort sessionId Members (cohort.Members |> Map.values |> Array.ofSeq)

        { SessionId = sessionId
          Kind = kind
          StartedAt = now
          Pages = pages
          Snapshot = { Members = current; TakenAt = now } }

    /// The sender once a sync has ended: a success stores the sync's snapshot, a failure changes
    /// nothing but the count, a pause stops the cohort.
    [<CompiledName("Complete")>]
    let complete (sender: CohortSender) (sync: PlannedSync) (outcome: SyncOutcome) : CohortSender =
        let sender = { sender with Syncs = sender.Syncs + 1 }

        match outcome with
        | Succeeded -> { sender with LastSuccessful = Some sync.Snapshot }
        | Failed -> sender
        | Paused _ -> { sender with IsPaused = true }

    /// Someone resumed the cohort's syncs in Mixpanel's UI.
    [<CompiledName("Resume")>]
    let resume (sender: CohortSender) = { sender with IsPaused = false }

// ==== Calls =======================================================================================

/// What came back from one call.
[<RequireQualifiedAccess>]
type Answer =
    /// An HTTP status.
    | Status of Code: int
    /// The connection failed or the sender stopped waiting.
    | NoAnswer

    /// An answer with this HTTP status.
    static member Of(code: int) = Status code

/// What the sender does after a call.
[<RequireQualifiedAccess>]
type Verdict =
    /// 2xx: on to the next page.
    | Accepted
    /// 5xx, 429 or no answer, with retries left: the same page again after this wait.
    | RetryAfter of TimeSpan
    /// 5xx, 429 or no answer with no retries left, or an undocumented status: the sync has failed.
    | GiveUp
    /// 400, 401, 403 or 404: the cohort is paused.
    | Pause of int

module Call =

    /// The wait before retry number `retry` (1-based): exponential backoff.
    [<CompiledName("Backoff")>]
    let backoff (settings: Settings) (retry: int) =
        TimeSpan.FromTicks(settings.FirstBackoff.Ticks * (1L <<< (retry - 1)))

    /// Judges the answer to attempt number `attempt` (1 is the first call, not a retry). Mixpanel
    /// documents retries for 5xx and 429 and pauses for exactly 400, 401, 403 and 404; what it does
    /// with any other answer (409, 413, a 3xx) is not documented: the model gives the sync up at
    /// once, without a pause, so the next sync starts from the top.
    [<CompiledName("Judge")>]
    let judge (settings: Settings) (attempt: int) (answer: Answer) : Verdict =
        let retryOrGiveUp () =
            if attempt > settings.Retries then Verdict.GiveUp
            else Verdict.RetryAfter(backoff settings attempt)

        match answer with
        | Answer.Status s when s >= 200 && s < 300 -> Verdict.Accepted
        | Answer.Status(400 | 401 | 403 | 404 as s) -> Verdict.Pause s
        | Answer.Status s when s = 429 || s >= 500 -> retryOrGiveUp ()
        | Answer.NoAnswer -> retryOrGiveUp ()
        | Answer.Status _ -> Verdict.GiveUp

// ==== The network =================================================================================

/// What the network does to one call: the faults a sender meets in the wild, each with its effect
/// on what the receiver gets and what the sender sees.
type Fault =
    /// Delivered, answered.
    | NoFault
    /// Lost before the receiver: it sees nothing; the sender sees no answer.
    | LostBeforeReceiver
    /// The receiver handled it, the answer was lost: the sender sees no answer.
    | LostAfterReceiver
    /// Delivered twice (a proxy retried): the sender sees the answer to the second copy.
    | Duplicated
    /// Held up in the network: the receiver gets it only after the sender's next call, while the
    /// sender sees no answer.
    | Delayed
    /// A proxy in front of the receiver answered this status (a 5xx or 429) without passing it on.
    | ProxyAnswered of Status: int
    /// The receiver restarted: the call in flight is lost, and anything the network held up is dropped.
    | ReceiverRestarted

module Fault =

    /// Copies of the call the receiver handles now.
    [<CompiledName("CopiesDelivered")>]
    let copiesDelivered (fault: Fault) =
        match fault with
        | NoFault
        | LostAfterReceiver -> 1
        | Duplicated -> 2
        | LostBeforeReceiver
        | Delayed
        | ProxyAnswered _
        | ReceiverRestarted -> 0

    /// What the sender sees, given what the receiver answered the last copy it handled now
    /// (`NoAnswer` when no copy reached it).
    [<CompiledName("AnswerSeen")>]
    let answerSeen (fault: Fault) (receiverAnswer: Answer) : Answer =
        match fault with
        | ProxyAnswered status -> Answer.Status status
        | NoFault
        | Duplicated -> receiverAnswer
        | LostBeforeReceiver
        | LostAfterReceiver
        | Delayed
        | ReceiverRestarted -> Answer.NoAnswer
