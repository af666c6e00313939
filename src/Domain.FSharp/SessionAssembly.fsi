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
    /// Pages are arriving; the session is sealed when the last is in.
    | Open
    /// Every page is in and acknowledged; not yet applied to membership.
    | Sealed
    /// Applied to membership.
    | Committed
    /// A newer session began (or the session was abandoned) before it committed: it never will.
    | Superseded

    /// The name as stored and served: `open`, `sealed`, `committed`, `superseded`.
    override ToString: unit -> string

    /// Every status, in the order a session can reach them.
    static member All: SessionStatus array

    /// The names `ToString` writes, as stored and served.
    static member Names: string array

    /// Reads the name `ToString` writes (as stored); throws `ArgumentException` on anything else.
    static member FromName: name: string -> SessionStatus

/// The pages received so far for one action of a session.
type ActionProgress =
    internal
        { totalPages: int
          received: Set<int> }

    /// How many pages the action has (the `total_pages` of its pages).
    member TotalPages: int

    /// The `page_count` of every page received.
    member Received: IReadOnlyCollection<int>

    /// True when every page of the action is in.
    member IsComplete: bool

    /// Progress as a host stored it, to rebuild a state.
    static member Of: totalPages: int * received: int seq -> ActionProgress

/// One session of a cohort.
type Session =
    internal
        { sessionId: SessionId
          kind: SessionKind
          status: SessionStatus
          progress: Map<WebhookAction, ActionProgress> }

    /// The session (`mixpanel_session_id`).
    member SessionId: SessionId

    /// Full or diff: fixed by the session's first page.
    member Kind: SessionKind

    /// Where the session stands.
    member Status: SessionStatus

    /// The pages received, by action (only actions with a page so far).
    member Progress: IReadOnlyDictionary<WebhookAction, ActionProgress>

    /// True when every action of the session's kind has all its pages.
    member IsComplete: bool

    /// A session as a host stored it, to rebuild a state.
    static member Of:
        sessionId: SessionId *
        kind: SessionKind *
        status: SessionStatus *
        progress: KeyValuePair<WebhookAction, ActionProgress> seq ->
            Session

/// The sessions of one cohort. A decision reads only the page's own session and the open and sealed
/// ones, so a host may load just those.
type State =
    internal
        { sessions: Map<SessionId, Session>
          sealedInOrder: SessionId list }

    /// A cohort with no session yet.
    static member Empty: State

    /// A state of these sessions, as a host stored them; sealed sessions in the order they were sealed.
    static member Of: sessions: Session seq -> State

    /// The sessions, by id.
    member Sessions: IReadOnlyDictionary<SessionId, Session>

    /// The sealed sessions not yet committed, oldest first: the order they must be committed in.
    member SealedInOrder: IReadOnlyList<SessionId>

    /// True with the session of this id, or false when the state holds none.
    member TryGetSession: sessionId: SessionId * [<Out; MaybeNullWhen(false)>] session: byref<Session> -> bool

/// F#'s functions over `State`.
module State =

    /// The session of this id, if the state holds it.
    val tryFind: sessionId: SessionId -> state: State -> Session option

/// How events change the state.
module Fold =

    /// A cohort with no session yet.
    [<CompiledName("Initial")>]
    val initial: State

    /// The state after one event. Never throws: an event about an unknown session changes nothing.
    [<CompiledName("Evolve")>]
    val evolve: state: State -> event: Event -> State

    /// The state after the events, in order.
    [<CompiledName("Fold")>]
    val fold: state: State -> events: Event seq -> State

// ==== Decisions ===================================================================================

/// What happened to a page, as the sender is told (all are acknowledged except `ActionConflict`).
/// Qualified access: `Sealed` and `Superseded` are also session statuses.
[<RequireQualifiedAccess>]
type PageOutcome =
    /// Staged; the session still waits for other pages.
    | Stored
    /// Staged, and it was the last one: the session is sealed, to be committed.
    | Sealed
    /// This page of this session and action was already stored: nothing changes.
    | Duplicate
    /// The session is sealed, not yet committed: nothing changes.
    | AlreadySealed
    /// The session already committed: nothing changes.
    | AlreadyCommitted
    /// A newer session of the cohort began: this session will never commit, so nothing changes.
    | Superseded
    /// The page's action does not belong to the session's kind (a `members` page in a diff
    /// session, say): the page is refused and nothing changes.
    | ActionConflict of Message: string

    /// True when the page changed the state (so its members must be staged).
    member IsAccepted: bool

    /// The HTTP status the sender is answered with: 2xx means "stored, go on"; a conflict (409) is
    /// the one outcome a retry cannot fix.
    member HttpStatus: int

    /// The name as served and measured: `stored`, `sealed`, `duplicate`, `already_sealed`,
    /// `already_committed`, `superseded`, `action_conflict`.
    override ToString: unit -> string

    /// The names `ToString` writes, one per case.
    static member Names: string array

/// The outcome of a page and the events that record it (empty when nothing changes).
type PageDecision =
    {
        /// What happened to the page.
        Outcome: PageOutcome
        /// What became true, in order: fold them into the state, and carry them out (`Effects`).
        Events: Event array
    }

/// What pages and time do to a cohort's sessions.
module Decisions =

    /// Decides what a page does to a cohort's sessions. Idempotent: a page whose effect is already
    /// in the state yields no events.
    [<CompiledName("Decide")>]
    val decide: page: WebhookPage -> state: State -> PageDecision

    /// Commits the oldest sealed session, if any: sessions are applied in the order they were sealed,
    /// so a newer session never overtakes an older one that Mixpanel was told succeeded.
    [<CompiledName("CommitNext")>]
    val commitNext: state: State -> Event array

    /// After a page that sealed its session (`decision`, decided on `state`): commits that session at
    /// once, unless a session sealed before it still waits (then nothing: the committer applies both, in order).
    [<CompiledName("CommitSealedNow")>]
    val commitSealedNow: decision: PageDecision -> state: State -> Event array

    /// Gives up the sessions among `sessionIds` that are still open (the host judges which have waited
    /// too long for a page). Idempotent: a session already finished yields no event.
    [<CompiledName("Abandon")>]
    val abandon: sessionIds: SessionId seq -> state: State -> Event array

// ==== Effects =====================================================================================

/// What a host carries out for each event, one member per event: a new event is a new member, so
/// every host stops compiling until it handles it (a `switch` with a default would fail only at run time).
type ISessionEffects =
    /// Carries out `SessionOpened`.
    abstract SessionOpened: sessionId: SessionId * kind: SessionKind -> Task
    /// Carries out `SessionSuperseded`: the session's staged pages can go.
    abstract SessionSuperseded: sessionId: SessionId * by: SessionId -> Task
    /// Carries out `SessionAbandoned`: the session's staged pages can go.
    abstract SessionAbandoned: sessionId: SessionId -> Task
    /// Carries out `ActionRestarted`: the action's staged pages so far are dropped.
    abstract ActionRestarted: sessionId: SessionId * action: WebhookAction * totalPages: int -> Task
    /// Carries out `PageStored`: the page's members are staged.
    abstract PageStored: sessionId: SessionId * action: WebhookAction * pageInfo: PageInfo -> Task
    /// Carries out `SessionSealed`: the session waits, complete, to be committed.
    abstract SessionSealed: sessionId: SessionId * kind: SessionKind -> Task
    /// Carries out `SessionCommitted`: the session's staged pages are applied to membership, atomically.
    abstract SessionCommitted: sessionId: SessionId * kind: SessionKind -> Task

/// Carries events out through a host's `ISessionEffects`.
module Effects =

    /// Carries out the events in order, each through its member of `effects`, one after another.
    [<CompiledName("PerformAsync")>]
    val perform: effects: ISessionEffects -> events: Event seq -> Task
