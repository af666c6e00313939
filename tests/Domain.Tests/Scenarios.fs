namespace CohortSync.Domain.Tests

// What the properties are given: sessions as Mixpanel sends them, and the orders they arrive in.

open CohortSync.Domain

/// Every page of one session as Mixpanel sends it, in order (a diff's add_members pages first).
type SentSession =
    { SessionId: SessionId
      Kind: SessionKind
      Pages: WebhookPage list }

/// A session and the order its pages arrive in: shuffled, each at least once, some more than once.
type Scheduled =
    { Session: SentSession
      Schedule: WebhookPage list }

/// Sessions of one cohort, each delivered whole before the next begins (Mixpanel runs the syncs of
/// a connection in sequence).
type CohortRun = { Sessions: Scheduled list }

/// An open session cut short: part of it arrives, then a newer session's first page, then the
/// rest of both, interleaved.
type Interrupted =
    { Committed: SentSession list
      Older: SentSession
      OlderFirstPart: WebhookPage list
      NewerFirstPage: WebhookPage
      Newer: SentSession
      Tail: WebhookPage list }

/// Pages of one action sent with another `total_pages` (too few of them to complete it), before
/// the session's real pages.
type Restarted =
    { Earlier: SentSession list
      Stale: WebhookPage list
      Next: Scheduled }

/// A diff whose pages of one action are held back until every other page is in.
type PartialDiff =
    { Prior: SentSession list
      Diff: SentSession
      FirstPart: WebhookPage list
      Withheld: WebhookPage list }

/// An open session, and a page with its session id but an action of the other kind.
type Conflicting =
    { Settled: SentSession list
      Open: SentSession
      Delivered: WebhookPage list
      Intruder: WebhookPage }

/// Pages of several sessions of one cohort in any order. `WithIntruders` adds pages of the other
/// kind under the sessions' ids, which no model of whole sessions describes.
type Interleaving =
    { All: SentSession list
      Pages: WebhookPage list
      WithIntruders: WebhookPage list }

/// The text of a JSON number, as a sender might write an id: `123`, `-0`, `1.5e3`, 30 digits.
type JsonNumberText = JsonNumberText of string
