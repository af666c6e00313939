namespace CohortSync.Domain

// ==== Transitions =================================================================================

/// A real change of membership: what a downstream system acts on, once.
type TransitionKind =
    /// The user was absent and is now present.
    | Entered
    /// The user was present and is now absent.
    | Exited

    /// The name as stored and served: `entered`, `exited`.
    override ToString: unit -> string

    /// Every kind.
    static member All: TransitionKind array

    /// The names `ToString` writes, as stored and served.
    static member Names: string array

/// One change of one user's membership of one cohort, made by the commit of one session.
type Transition =
    {
        /// Entered or exited.
        Kind: TransitionKind
        /// The cohort's project.
        ProjectId: ProjectId
        /// The cohort.
        CohortId: CohortId
        /// The user.
        DistinctId: DistinctId
        /// The session whose commit made the change.
        SessionId: SessionId
    }

/// What a committed session does to a cohort's membership (F#'s functions over `Set`). A host may
/// run the same rules another way (the CohortSync service runs them as set-based SQL); these are
/// their definition.
module Membership =

    /// A full copy: membership becomes exactly the union of the session's pages.
    val commitFull: current: Set<DistinctId> -> members: DistinctId seq -> Set<DistinctId>

    /// A diff: membership becomes (current ∪ added) − removed; a user in both lists ends absent.
    val commitDiff: current: Set<DistinctId> -> added: DistinctId seq -> removed: DistinctId seq -> Set<DistinctId>

    /// One transition per real change between two memberships, exits first, each in id order.
    val transitions:
        projectId: ProjectId ->
        cohortId: CohortId ->
        sessionId: SessionId ->
        before: Set<DistinctId> ->
        after: Set<DistinctId> ->
            Transition list
