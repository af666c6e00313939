namespace CohortSync.Domain

// ==== Transitions =================================================================================

/// A real change of membership: what a downstream system acts on, once.
type TransitionKind =
    /// The user was absent and is now present.
    | Entered
    /// The user was present and is now absent.
    | Exited

    override this.ToString() =
        match this with
        | Entered -> "entered"
        | Exited -> "exited"

    static member All = [| Entered; Exited |]

    /// The names `ToString` writes, as stored and served.
    static member Names = TransitionKind.All |> Array.map string

/// One change of one user's membership of one cohort, made by the commit of one session.
type Transition =
    { Kind: TransitionKind
      ProjectId: ProjectId
      CohortId: CohortId
      DistinctId: DistinctId
      SessionId: SessionId }

/// What a committed session does to a cohort's membership. The host runs the same rules as
/// set-based SQL; this is their definition, and the oracle the tests compare the host with.
module Membership =

    /// A full copy: membership becomes exactly the union of the session's pages.
    let commitFull (current: Set<DistinctId>) (members: DistinctId seq) : Set<DistinctId> =
        Set.ofSeq members

    /// A diff: membership becomes (current ∪ added) − removed; a user in both lists ends absent.
    let commitDiff (current: Set<DistinctId>) (added: DistinctId seq) (removed: DistinctId seq) : Set<DistinctId> =
        Set.difference (Set.union current (Set.ofSeq added)) (Set.ofSeq removed)

    /// One transition per real change between two memberships, exits first, each in id order.
    let transitions projectId cohortId sessionId (before: Set<DistinctId>) (after: Set<DistinctId>) : Transition list =
        let make kind distinctId =
            { Kind = kind
              ProjectId = projectId
              CohortId = cohortId
              DistinctId = distinctId
              SessionId = sessionId }

        [ for d in Set.difference before after -> make Exited d
          for d in Set.difference after before -> make Entered d ]
