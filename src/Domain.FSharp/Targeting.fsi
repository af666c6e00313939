/// What a destination is sent, and when it is tried again: the "targeted once" ledger and the retry
/// schedule. Pure, so that the host's worker and the properties run the same rules.
namespace CohortSync.Domain.Targeting

open System
open System.Collections.Generic
open CohortSync.Domain

/// A transition's place in the change feed: its session's commit position, then its distinct id.
[<CustomEquality; CustomComparison>]
type FeedPosition =
    {
      CommitPosition: int64
      DistinctId: string
    }
    interface IComparable

    override Equals: other: obj | null -> bool

    override GetHashCode: unit -> int

    static member Start: FeedPosition

/// One transition of the feed, as a destination's ledger sees it.
type Change =
    {
      Position: FeedPosition
      CohortId: string
      DistinctId: string
      Kind: TransitionKind
      CommittedAt: DateTime
    }

/// A user's stay in a cohort, as far as one destination knows it.
type Stay =
    {
      InCohort: bool

      /// `entered` was sent for this stay (a return within the re-entry cooldown continues the stay).
      Targeted: bool

      /// When the user last left; meaningful only when `HasExited`.
      ExitedAt: DateTime
      HasExited: bool

      /// The last change applied: a change at or before it was seen already and decides nothing.
      Last: FeedPosition
    }

    static member Unknown: Stay

/// One ledger row: a user's stay in one cohort.
type LedgerEntry =
    {
      CohortId: string
      DistinctId: string
      Stay: Stay
    }

/// What a destination asked for.
type Policy =
    {
      SendsEntered: bool
      SendsExited: bool

      /// A user who leaves and returns within this is not targeted again (zero: no cooldown).
      ReentryCooldown: TimeSpan
    }

/// The changes of a run to send, in feed order, and every touched ledger row as it ends.
type Plan =
    {
      Send: Change array
      Ledger: LedgerEntry array
    }

module Ledger =

    /// Whether to send one change, and the stay after it. `entered` goes out once per stay; `exited` once
    /// per stay that was seen; a change already applied, or one that repeats the state, sends nothing.
    [<CompiledName("Decide")>]
    val decide:
      policy: Policy * stay: Stay * change: Change -> struct (bool * Stay)

    /// Decides a run of changes in feed order against the ledger rows known for them (users without a row
    /// start unknown): what to send, and the rows to store.
    [<CompiledName("Plan")>]
    val plan:
      policy: Policy *
      ledger: IReadOnlyList<LedgerEntry> *
      changes: IReadOnlyList<Change> -> Plan

/// When a failed delivery is tried again: Standard Webhooks' example schedule, with jitter.
module RetrySchedule =

    /// Delays before attempts 1, 2, ... : at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    [<CompiledName("Standard")>]
    val standard: TimeSpan array

    /// The share of a delay added at most as jitter, so that destinations that failed together do not
    /// all come back at one instant.
    [<Literal>]
    val JitterShare: float = 0.1

    /// After attempt <c>attempt</c> (1-based) failed: the wait before the next one, or a negative span when
    /// the schedule is over. <c>jitter</c> in [0, 1) stretches the delay by up to a tenth; a Retry-After the
    /// destination asked for (negative: none) is honoured when it is longer, up to the schedule's longest.
    [<CompiledName("Next")>]
    val next:
      delays: TimeSpan array * attempt: int * jitter: float *
      retryAfter: TimeSpan -> TimeSpan
