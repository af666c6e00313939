/// What a destination is sent, and when it is tried again: the "targeted once" ledger and the retry
/// schedule. Pure, so that the host's worker and the properties run the same rules.
namespace CohortSync.Domain.Targeting

open System
open System.Collections.Generic
open CohortSync.Domain

// ==== Feed positions and changes ====================================================================

/// A transition's place in the change feed: its session's commit position, then its distinct id.
[<CustomEquality; CustomComparison>]
type FeedPosition =
    { CommitPosition: int64
      DistinctId: string }

    static member Start = { CommitPosition = 0L; DistinctId = "" }

    interface IComparable with
        member this.CompareTo other =
            match other with
            | :? FeedPosition as o ->
                match compare this.CommitPosition o.CommitPosition with
                | 0 -> String.CompareOrdinal(this.DistinctId, o.DistinctId)
                | c -> c
            | _ -> invalidArg (nameof other) "not a feed position"

    override this.Equals other =
        match other with
        | :? FeedPosition as o -> this.CommitPosition = o.CommitPosition && String.Equals(this.DistinctId, o.DistinctId, StringComparison.Ordinal)
        | _ -> false

    override this.GetHashCode() = HashCode.Combine(this.CommitPosition, this.DistinctId)

/// One transition of the feed, as a destination's ledger sees it.
type Change =
    { Position: FeedPosition
      CohortId: string
      DistinctId: string
      Kind: TransitionKind
      CommittedAt: DateTime }

/// A user's stay in a cohort, as far as one destination knows it.
type Stay =
    { InCohort: bool
      /// `entered` was sent for this stay (a return within the re-entry cooldown continues the stay).
      Targeted: bool
      /// When the user last left; meaningful only when `HasExited`.
      ExitedAt: DateTime
      HasExited: bool
      /// The last change applied: a change at or before it was seen already and decides nothing.
      Last: FeedPosition }

    static member Unknown =
        { InCohort = false; Targeted = false; ExitedAt = DateTime.MinValue; HasExited = false; Last = FeedPosition.Start }

/// One ledger row: a user's stay in one cohort.
type LedgerEntry = { CohortId: string; DistinctId: string; Stay: Stay }

/// What a destination asked for.
type Policy =
    { SendsEntered: bool
      SendsExited: bool
      /// A user who leaves and returns within this is not targeted again (zero: no cooldown).
      ReentryCooldown: TimeSpan }

/// The changes of a run to send, in feed order, and every touched ledger row as it ends.
type Plan = { Send: Change array; Ledger: LedgerEntry array }

// ==== The ledger's decision =========================================================================

module Ledger =

    /// Whether to send one change, and the stay after it. `entered` goes out once per stay; `exited` once
    /// per stay that was seen; a change already applied, or one that repeats the state, sends nothing.
    [<CompiledName("Decide")>]
    let decide (policy: Policy, stay: Stay, change: Change) : struct (bool * Stay) =
        if (change.Position :> IComparable).CompareTo stay.Last <= 0 then
            struct (false, stay)
        else
            let stay' = { stay with Last = change.Position }
            match change.Kind with
            | Entered when stay.InCohort -> struct (false, stay')
            | Entered ->
                let returning =
                    stay.HasExited && policy.ReentryCooldown > TimeSpan.Zero
                    && change.CommittedAt - stay.ExitedAt < policy.ReentryCooldown
                let targeted = returning && stay.Targeted
                let send = policy.SendsEntered && not targeted
                struct (send, { stay' with InCohort = true; Targeted = targeted || send })
            | Exited when not stay.InCohort && stay.HasExited -> struct (false, stay')
            | Exited ->
                struct (policy.SendsExited, { stay' with InCohort = false; HasExited = true; ExitedAt = change.CommittedAt })

    /// Decides a run of changes in feed order against the ledger rows known for them (users without a row
    /// start unknown): what to send, and the rows to store.
    [<CompiledName("Plan")>]
    let plan (policy: Policy, ledger: IReadOnlyList<LedgerEntry>, changes: IReadOnlyList<Change>) : Plan =
        // Sized for the run at once: grown step by step, a step of thousands of changes allocated each table
        // several times over, the largest on the large object heap (docs/performance.md).
        let stays = Dictionary<struct (string * string), Stay>(max ledger.Count changes.Count)
        for e in ledger do
            stays[struct (e.CohortId, e.DistinctId)] <- e.Stay
        let touched = HashSet<struct (string * string)>(changes.Count)
        let order = List<struct (string * string)>(changes.Count)
        let send =
            [| for c in changes do
                   let key = struct (c.CohortId, c.DistinctId)
                   if touched.Add key then
                       order.Add key
                   let stay =
                       match stays.TryGetValue key with
                       | true, s -> s
                       | _ -> Stay.Unknown
                   let struct (go, after) = decide (policy, stay, c)
                   stays[key] <- after
                   if go then
                       c |]
        let rows =
            [| for struct (cohort, user) as key in order -> { CohortId = cohort; DistinctId = user; Stay = stays[key] } |]
        { Send = send; Ledger = rows }

// ==== Retries =======================================================================================

/// When a failed delivery is tried again: Standard Webhooks' example schedule, with jitter.
module RetrySchedule =

    /// Delays before attempts 1, 2, ... : at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    [<CompiledName("Standard")>]
    let standard =
        [| TimeSpan.Zero; TimeSpan.FromSeconds 5.; TimeSpan.FromMinutes 5.; TimeSpan.FromMinutes 30.
           TimeSpan.FromHours 2.; TimeSpan.FromHours 5.; TimeSpan.FromHours 10.; TimeSpan.FromHours 14.
           TimeSpan.FromHours 20.; TimeSpan.FromHours 24. |]

    /// The share of a delay added at most as jitter, so that destinations that failed together do not
    /// all come back at one instant.
    [<Literal>]
    let JitterShare = 0.1

    /// After attempt <c>attempt</c> (1-based) failed: the wait before the next one, or a negative span when
    /// the schedule is over. <c>jitter</c> in [0, 1) stretches the delay by up to a tenth; a Retry-After the
    /// destination asked for (negative: none) is honoured when it is longer, up to the schedule's longest.
    [<CompiledName("Next")>]
    let next (delays: TimeSpan array, attempt: int, jitter: float, retryAfter: TimeSpan) : TimeSpan =
        if attempt < 1 || attempt >= delays.Length then
            TimeSpan.FromTicks -1L
        else
            let scheduled = delays[attempt]
            let jittered = scheduled + TimeSpan.FromTicks(int64 (float scheduled.Ticks * JitterShare * (max 0. (min jitter 0.999999))))
            let longest = Array.max delays
            if retryAfter > jittered then min retryAfter longest else jittered
