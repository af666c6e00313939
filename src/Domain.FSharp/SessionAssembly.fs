/// Session assembly for one cohort, as a decider: pages arrive in any order, any number of times;
/// a session is sealed once, when the last of its pages is in (Mixpanel is then told it succeeded),
/// and committed once, after every session sealed before it. Membership itself is not held here: a
/// commit event tells the host to apply the session's staged pages (see `Membership`).
module CohortSync.Domain.SessionAssembly

open System.Collections.Generic
open System.Diagnostics.CodeAnalysis
open System.Runtime.InteropServices
open System.Threading.Tasks

// ==== Events ======================================================================================

/// What became true of a cohort's sessions.
type Event =
    /// The first page of a session not seen before arrived.
    | SessionOpened of SessionId: SessionId * Kind: SessionKind
    /// A newer session opened before this one committed: it never will.
    | SessionSuperseded of SessionId: SessionId * By: SessionId
    /// An open session had no page for so long that it was given up: as if superseded, by no session.
    | SessionAbandoned of SessionId: SessionId
    /// A page disagreed on `total_pages` with what its action had recorded: its pages so far are dropped.
    | ActionRestarted of SessionId: SessionId * Action: WebhookAction * TotalPages: int
    /// A page was stored (staged, invisible until the session commits).
    | PageStored of SessionId: SessionId * Action: WebhookAction * PageInfo: PageInfo
    /// Every page is in and acknowledged: the session must be applied, after those sealed before it.
    | SessionSealed of SessionId: SessionId * Kind: SessionKind
    /// The session's pages are applied to membership, atomically.
    | SessionCommitted of SessionId: SessionId * Kind: SessionKind

// ==== State =======================================================================================

/// Where a session stands.
type SessionStatus =
    /// Pages are still arriving.
    | Open
    /// Every page is in and acknowledged; not yet applied.
    | Sealed
    /// Applied to membership.
    | Committed
    /// Given up before its last page: a newer session began, or it waited too long.
    | Superseded

    override this.ToString() =
        match this with
        | Open -> "open"
        | Sealed -> "sealed"
        | Committed -> "committed"
        | Superseded -> "superseded"

    /// Every status, in the order a session can reach them.
    static member All = [| Open; Sealed; Committed; Superseded |]

    /// The names `ToString` writes, as stored and served.
    static member Names = SessionStatus.All |> Array.map string

    /// Reads the name `ToString` writes (as stored); throws on anything else.
    static member FromName(name: string) =
        match name with
        | "open" -> Open
        | "sealed" -> Sealed
        | "committed" -> Committed
        | "superseded" -> Superseded
        | other -> invalidArg (nameof name) $"not a session status: {other}"

// F#'s immutable sets and maps keep the fold cheap; they stay inside the assembly, and callers read
// them through the read-only interfaces they implement.

/// The pages received so far for one action of a session.
type ActionProgress =
    internal
        { totalPages: int
          received: Set<int> }

    member this.TotalPages = this.totalPages
    member this.Received: IReadOnlyCollection<int> = this.received
    member this.IsComplete = this.received.Count = this.totalPages

    static member Of(totalPages: int, received: int seq) =
        { totalPages = totalPages
          received = Set.ofSeq received }

/// One session of a cohort.
type Session =
    internal
        { sessionId: SessionId
          kind: SessionKind
          status: SessionStatus
          progress: Map<WebhookAction, ActionProgress> }

    member this.SessionId = this.sessionId
    member this.Kind = this.kind
    member this.Status = this.status
    member this.Progress: IReadOnlyDictionary<WebhookAction, ActionProgress> = this.progress

    member this.IsComplete =
        this.kind.Actions
        |> Array.forall (fun a -> this.progress |> Map.tryFind a |> Option.exists _.IsComplete)

    static member Of(sessionId, kind, status, progress: KeyValuePair<WebhookAction, ActionProgress> seq) =
        { sessionId = sessionId
          kind = kind
          status = status
          progress = progress |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq }

/// The sessions of one cohort. A decision reads only the page's own session and the open and sealed
/// ones, so a host may load just those.
type State =
    internal
        { sessions: Map<SessionId, Session>
          sealedInOrder: SessionId list }

    static member Empty = { sessions = Map.empty; sealedInOrder = [] }

    /// For C# callers rebuilding state from storage: sealed sessions must come in the order they were sealed.
    static member Of(sessions: Session seq) =
        let sessions = List.ofSeq sessions

        { sessions = sessions |> List.map (fun s -> s.sessionId, s) |> Map.ofList
          sealedInOrder = sessions |> List.filter (fun s -> s.status = Sealed) |> List.map _.sessionId }

    member this.Sessions: IReadOnlyDictionary<SessionId, Session> = this.sessions

    member this.SealedInOrder: IReadOnlyList<SessionId> = this.sealedInOrder

    member this.TryGetSession(sessionId, [<Out; MaybeNullWhen(false)>] session: byref<Session>) =
        match this.sessions.TryGetValue sessionId with
        | true, s ->
            session <- s
            true
        | false, _ ->
            session <- Unchecked.defaultof<_>
            false

module State =

    let tryFind (sessionId: SessionId) (state: State) = state.sessions |> Map.tryFind sessionId

module Fold =

    [<CompiledName("Initial")>]
    let initial: State = State.Empty

    let private update sessionId f (state: State) =
        match state.sessions |> Map.tryFind sessionId with
        | Some s -> { state with sessions = state.sessions |> Map.add sessionId (f s) }
        | None -> state

    let private progress action f (s: Session) =
        { s with progress = s.progress |> Map.change action (fun p -> Some(f p)) }

    /// Never throws: an event about an unknown session changes nothing.
    [<CompiledName("Evolve")>]
    let evolve (state: State) (event: Event) : State =
        match event with
        | SessionOpened(id, kind) ->
            { state with
                sessions =
                    state.sessions
                    |> Map.add
                        id
                        { sessionId = id
                          kind = kind
                          status = Open
                          progress = Map.empty } }
        | SessionSuperseded(id, _)
        | SessionAbandoned id -> state |> update id (fun s -> { s with status = Superseded })
        | ActionRestarted(id, action, total) ->
            state
            |> update id (progress action (fun _ -> { totalPages = total; received = Set.empty }))
        | PageStored(id, action, info) ->
            let add (p: ActionProgress option) =
                match p with
                | Some p -> { p with received = p.received.Add info.PageCount }
                | None ->
                    { totalPages = info.TotalPages
                      received = Set.singleton info.PageCount }

            state |> update id (progress action add)
        | SessionSealed(id, _) ->
            { update id (fun s -> { s with status = Sealed }) state with
                sealedInOrder = state.sealedInOrder @ [ id ] }
        | SessionCommitted(id, _) ->
            { update id (fun s -> { s with status = Committed }) state with
                sealedInOrder = state.sealedInOrder |> List.filter ((<>) id) }

    [<CompiledName("Fold")>]
    let fold (state: State) (events: Event seq) : State = Seq.fold evolve state events

// ==== Decisions ===================================================================================

/// What happened to a page, as the sender is told (all are acknowledged except `ActionConflict`).
/// Qualified access: `Committed` and `Superseded` are also session statuses.
[<RequireQualifiedAccess>]
type PageOutcome =
    /// Staged; the session still waits for other pages.
    | Stored
    /// Staged, and it was the last one: the session is sealed, to be committed.
    | Sealed
    /// This page of this session and action was already stored: nothing changes.
    | Duplicate
    /// The session is already sealed, not yet committed: nothing changes.
    | AlreadySealed
    /// The session already committed: nothing changes.
    | AlreadyCommitted
    /// A newer session of the cohort began: this session will never commit, so nothing changes.
    | Superseded
    /// The page's action does not belong to the session's kind (a `members` page in a diff
    /// session, say): the page is refused and nothing changes.
    | ActionConflict of Message: string

    /// True when the page changed the state (so its members must be staged).
    member this.IsAccepted =
        match this with
        | PageOutcome.Stored
        | PageOutcome.Sealed -> true
        | PageOutcome.Duplicate
        | PageOutcome.AlreadySealed
        | PageOutcome.AlreadyCommitted
        | PageOutcome.Superseded
        | PageOutcome.ActionConflict _ -> false

    /// The HTTP status the sender is answered with: 2xx means "stored, go on"; a conflict is the
    /// one outcome a retry cannot fix.
    member this.HttpStatus =
        match this with
        | PageOutcome.Stored
        | PageOutcome.Sealed
        | PageOutcome.Duplicate
        | PageOutcome.AlreadySealed
        | PageOutcome.AlreadyCommitted
        | PageOutcome.Superseded -> 200
        | PageOutcome.ActionConflict _ -> 409

    override this.ToString() =
        match this with
        | PageOutcome.Stored -> "stored"
        | PageOutcome.Sealed -> "sealed"
        | PageOutcome.Duplicate -> "duplicate"
        | PageOutcome.AlreadySealed -> "already_sealed"
        | PageOutcome.AlreadyCommitted -> "already_committed"
        | PageOutcome.Superseded -> "superseded"
        | PageOutcome.ActionConflict _ -> "action_conflict"

    /// The names `ToString` writes, one per case (as metrics label them).
    static member Names =
        [| PageOutcome.Stored
           PageOutcome.Sealed
           PageOutcome.Duplicate
           PageOutcome.AlreadySealed
           PageOutcome.AlreadyCommitted
           PageOutcome.Superseded
           PageOutcome.ActionConflict "" |]
        |> Array.map string

/// The outcome of a page and the events that record it (empty when nothing changes).
type PageDecision =
    { Outcome: PageOutcome
      Events: Event array }

module Decisions =

    let private accept (info: WebhookPage) (session: Session) (opening: Event list) =
        let action, pageInfo = info.Action, info.PageInfo

        let restart =
            match session.progress |> Map.tryFind action with
            | Some p when p.TotalPages <> pageInfo.TotalPages ->
                [ ActionRestarted(session.SessionId, action, pageInfo.TotalPages) ]
            | _ -> []

        let stored = opening @ restart @ [ PageStored(session.SessionId, action, pageInfo) ]
        let after =
            Fold.fold
                { State.Empty with
                    sessions = Map.ofList [ session.SessionId, session ] }
                stored

        if after.sessions[session.SessionId].IsComplete then
            { Outcome = PageOutcome.Sealed
              Events = Array.ofList (stored @ [ SessionSealed(session.SessionId, session.Kind) ]) }
        else
            { Outcome = PageOutcome.Stored
              Events = Array.ofList stored }

    /// Decides what a page does to a cohort's sessions. Idempotent: a page whose effect is already
    /// in the state yields no events.
    [<CompiledName("Decide")>]
    let decide (page: WebhookPage) (state: State) : PageDecision =
        let ignored outcome = { Outcome = outcome; Events = [||] }

        match State.tryFind page.SessionId state with
        | None ->
            let kind = SessionKind.Of page.Action

            let supersede =
                [ for s in state.sessions.Values do
                      if s.Status = Open then
                          SessionSuperseded(s.SessionId, page.SessionId) ]

            let opened = SessionOpened(page.SessionId, kind)
            let fresh = Fold.evolve Fold.initial opened
            accept page fresh.sessions[page.SessionId] (opened :: supersede)
        | Some s ->
            match s.Status with
            | SessionStatus.Sealed -> ignored PageOutcome.AlreadySealed
            | SessionStatus.Committed -> ignored PageOutcome.AlreadyCommitted
            | SessionStatus.Superseded -> ignored PageOutcome.Superseded
            | Open when SessionKind.Of page.Action <> s.Kind ->
                ignored (
                    PageOutcome.ActionConflict
                        $"session {s.SessionId} is a {s.Kind} sync; a {page.Action.WireName} page cannot be part of it"
                )
            | Open ->
                match s.progress |> Map.tryFind page.Action with
                | Some p when p.totalPages = page.PageInfo.TotalPages && p.received.Contains page.PageInfo.PageCount ->
                    ignored PageOutcome.Duplicate
                | _ -> accept page s []

    /// Commits the oldest sealed session, if any: sessions are applied in the order they were sealed,
    /// so a newer session never overtakes an older one that Mixpanel was told succeeded.
    [<CompiledName("CommitNext")>]
    let commitNext (state: State) : Event array =
        match state.sealedInOrder with
        | id :: _ -> [| SessionCommitted(id, state.sessions[id].Kind) |]
        | [] -> [||]

    /// After a page that sealed its session: commits that session at once, unless a session sealed
    /// before it still waits (the committer then applies both, in order).
    [<CompiledName("CommitSealedNow")>]
    let commitSealedNow (decision: PageDecision) (state: State) : Event array =
        let sealedNow =
            decision.Events
            |> Array.tryPick (function
                | SessionSealed(id, _) -> Some id
                | _ -> None)

        let after = Fold.fold state decision.Events

        match sealedNow, after.sealedInOrder with
        | Some id, head :: _ when head = id -> commitNext after
        | _ -> [||]

    /// Gives up the sessions among `sessionIds` that are still open (the host judges which have waited
    /// too long for a page). Idempotent: a session already finished yields no event.
    [<CompiledName("Abandon")>]
    let abandon (sessionIds: SessionId seq) (state: State) : Event array =
        [| for id in Seq.distinct sessionIds do
               match State.tryFind id state with
               | Some s when s.Status = Open -> SessionAbandoned id
               | Some _
               | None -> () |]

// ==== Effects =====================================================================================

/// What a host carries out for each event, one member per event: a new event is a new member, so
/// every host stops compiling until it handles it (a `switch` with a default would fail only at run time).
type ISessionEffects =
    abstract SessionOpened: sessionId: SessionId * kind: SessionKind -> Task
    abstract SessionSuperseded: sessionId: SessionId * by: SessionId -> Task
    abstract SessionAbandoned: sessionId: SessionId -> Task
    abstract ActionRestarted: sessionId: SessionId * action: WebhookAction * totalPages: int -> Task
    abstract PageStored: sessionId: SessionId * action: WebhookAction * pageInfo: PageInfo -> Task
    abstract SessionSealed: sessionId: SessionId * kind: SessionKind -> Task
    abstract SessionCommitted: sessionId: SessionId * kind: SessionKind -> Task

module Effects =

    /// Carries out the events in order, each through its member of `effects`, one after another.
    [<CompiledName("PerformAsync")>]
    let perform (effects: ISessionEffects) (events: Event seq) : Task =
        task {
            for event in events do
                match event with
                | SessionOpened(id, kind) -> do! effects.SessionOpened(id, kind)
                | SessionSuperseded(id, by) -> do! effects.SessionSuperseded(id, by)
                | SessionAbandoned id -> do! effects.SessionAbandoned id
                | ActionRestarted(id, action, total) -> do! effects.ActionRestarted(id, action, total)
                | PageStored(id, action, info) -> do! effects.PageStored(id, action, info)
                | SessionSealed(id, kind) -> do! effects.SessionSealed(id, kind)
                | SessionCommitted(id, kind) -> do! effects.SessionCommitted(id, kind)
        }
