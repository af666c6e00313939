/// Tracking back to Mixpanel: the `$insert_id` each event sent to `/import` carries, and how long to wait
/// when `/import` is throttling. Pure, so that the host's worker and the properties run the same rules.
namespace CohortSync.Domain.Tracking

open System
open CohortSync.Domain.Targeting

/// An event's `$insert_id`: Mixpanel deduplicates on it (with the event's name, distinct id and time), so it
/// is derived, never drawn: every resend of the same change or report carries the same one.
module InsertId =

    /// The longest `$insert_id` Mixpanel takes.
    [<Literal>]
    val MaxLength: int = 36

    /// Whether Mixpanel takes it: 1 to 36 ASCII letters, digits and `-`.
    [<CompiledName("IsValid")>]
    val isValid: insertId: string -> bool

    /// The id of the event a destination is sent for one change of the feed: 32 hex digits of SHA-256 over
    /// the destination and the change's feed position.
    [<CompiledName("ForChange")>]
    val forChange: destinationId: Guid * position: FeedPosition -> string

    /// The id of the event forwarded for an action report: 32 hex digits of SHA-256 over its project and
    /// the id its reporter gave it, so that a report repeated under that id is the same event.
    [<CompiledName("ForReport")>]
    val forReport: projectId: string * reportId: string -> string

/// How long to wait before trying `/import` again after a 429, 502 or 503 (Mixpanel's advice): 2 s,
/// doubling up to 60 s, plus 1 to 5 s of jitter.
module ImportBackoff =

    /// The first wait, before jitter.
    val First: TimeSpan

    /// The longest wait, before jitter.
    val Longest: TimeSpan

    /// The longest Retry-After honoured: a longer one is cut to it.
    val LongestRetryAfter: TimeSpan

    /// After attempt <c>attempt</c> (1-based, at least 1) failed: the wait before the next one. <c>jitter</c>
    /// in [0, 1) adds 1 to 5 s; a Retry-After (negative: none) is honoured when longer, up to
    /// <c>LongestRetryAfter</c>.
    [<CompiledName("Next")>]
    val next: attempt: int * jitter: float * retryAfter: TimeSpan -> TimeSpan
