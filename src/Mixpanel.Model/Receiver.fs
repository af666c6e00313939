/// A whole receiver held in memory: session assembly, staged pages, membership and transitions for
/// any number of cohorts. It is the reference the PostgreSQL host is tested against, and the model
/// the convergence properties run on.
module CohortSync.Mixpanel.Receiver

open CohortSync.Domain
open CohortSync.Domain.SessionAssembly

/// A cohort as a project knows it.
type CohortKey = ProjectId * CohortId

/// One cohort's share of the receiver.
type Cohort =
    { Sessions: State
      /// Staged pages, invisible until their session commits.
      Staged: Map<SessionId * WebhookAction * int, Member array>
      Membership: Set<DistinctId>
      /// Every transition recorded, oldest first.
      Transitions: Transition list }

let private emptyCohort =
    { Sessions = Fold.initial
      Staged = Map.empty
      Membership = Set.empty
      Transitions = [] }

/// Every cohort the receiver has seen.
type Receiver = { Cohorts: Map<CohortKey, Cohort> }

[<CompiledName("Empty")>]
let empty: Receiver = { Cohorts = Map.empty }

let private dropStaged (pred: SessionId * WebhookAction * int -> bool) (c: Cohort) =
    { c with Staged = c.Staged |> Map.filter (fun k _ -> not (pred k)) }

let private stagedIds (c: Cohort) sessionId action =
    c.Staged
    |> Seq.collect (fun kv ->
        let (s, a, _) = kv.Key
        if s = sessionId && a = action then kv.Value |> Seq.map _.DistinctId else Seq.empty)

/// Carries out one event on a cohort: the host does the same in SQL. `members` are the page's, when
/// the event comes of a page.
let private perform ((projectId, cohortId): CohortKey) (members: Member array) (c: Cohort) (event: Event) : Cohort =
    let c = { c with Sessions = Fold.evolve c.Sessions event }

    match event with
    | SessionOpened _
    | SessionSealed _ -> c
    | SessionSuperseded(id, _)
    | SessionAbandoned id -> c |> dropStaged (fun (s, _, _) -> s = id)
    | ActionRestarted(id, action, _) -> c |> dropStaged (fun (s, a, _) -> s = id && a = action)
    | PageStored(id, action, info) ->
        { c with Staged = c.Staged |> Map.add (id, action, info.PageCount) members }
    | SessionCommitted(id, kind) ->
        let after =
            match kind with
            | Full -> Membership.commitFull c.Membership (stagedIds c id Members)
            | Diff -> Membership.commitDiff c.Membership (stagedIds c id AddMembers) (stagedIds c id RemoveMembers)

        let changes = Membership.transitions projectId cohortId id c.Membership after

        { c with
            Membership = after
            Transitions = c.Transitions @ changes }
        |> dropStaged (fun (s, _, _) -> s = id)

let private cohortOf key (receiver: Receiver) =
    receiver.Cohorts |> Map.tryFind key |> Option.defaultValue emptyCohort

/// Receives one page: decides, and carries out the decision, but commits nothing (see `commitNext`).
[<CompiledName("Stage")>]
let stage (page: WebhookPage) (receiver: Receiver) : PageOutcome * Receiver =
    let key = page.ProjectId, page.CohortId
    let cohort = cohortOf key receiver
    let decision = Decisions.decide page cohort.Sessions
    let cohort = decision.Events |> Array.fold (perform key page.Members) cohort
    decision.Outcome, { Cohorts = receiver.Cohorts |> Map.add key cohort }

/// The committer's step: commits the cohort's oldest sealed session, if any.
[<CompiledName("CommitNext")>]
let commitNext (key: CohortKey) (receiver: Receiver) : Receiver =
    let cohort = cohortOf key receiver
    let cohort = Decisions.commitNext cohort.Sessions |> Array.fold (perform key [||]) cohort
    { Cohorts = receiver.Cohorts |> Map.add key cohort }

/// Sealed sessions of the cohort not yet committed.
[<CompiledName("SealedCount")>]
let sealedCount (key: CohortKey) (receiver: Receiver) : int = (cohortOf key receiver).Sessions.SealedInOrder.Count

/// Receives one page and commits what it sealed at once: the receiver as seen from outside, a page's
/// effects visible when it is answered.
[<CompiledName("Receive")>]
let receive (page: WebhookPage) (receiver: Receiver) : PageOutcome * Receiver =
    let key = page.ProjectId, page.CohortId
    let outcome, staged = stage page receiver
    let rec commitAll r =
        if sealedCount key r = 0 then r else commitAll (commitNext key r)
    outcome, commitAll staged

/// A cohort's committed membership (empty for a cohort never seen).
[<CompiledName("Membership")>]
let membership (key: CohortKey) (receiver: Receiver) : Set<DistinctId> =
    receiver.Cohorts |> Map.tryFind key |> Option.map _.Membership |> Option.defaultValue Set.empty

/// A cohort's transitions, oldest first.
[<CompiledName("Transitions")>]
let transitions (key: CohortKey) (receiver: Receiver) : Transition list =
    receiver.Cohorts |> Map.tryFind key |> Option.map _.Transitions |> Option.defaultValue []
