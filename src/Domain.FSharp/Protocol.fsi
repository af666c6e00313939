namespace CohortSync.Domain

open System.Diagnostics.CodeAnalysis
open System.Runtime.InteropServices

// ==== Identifiers =================================================================================
// Each id is text that PostgreSQL can store and index: not blank, no NUL, and at most `MaxBytes`
// bytes of UTF-8. Mixpanel sends ids as strings, some senders as JSON numbers: both are kept as text.

/// Checks shared by every id.
module internal Text =
    val check: limitBytes: int -> path: string -> raw: string | null -> Validation<string>
    val orThrow: name: string -> v: Validation<'T> -> 'T
    val tryOut: v: Validation<'T> -> value: byref<'T> -> problems: byref<Problem array> -> bool

/// The id of the Mixpanel project that produced a cohort (`mixpanel_project_id`).
type ProjectId =
    private
    | ProjectId of string

    /// The id as text.
    member Value: string

    /// The id as text.
    override ToString: unit -> string

    /// The most bytes of UTF-8 an id may take (255).
    static member MaxBytes: int

    /// Validates raw text; `path` names the value in the problem (a JSON path, an option's name).
    static member Create: path: string * raw: string | null -> Result<ProjectId, Problem list>

    /// Validates raw text: true with the id, or false with every problem (`path` names the value in them).
    static member TryCreate:
        path: string * raw: string | null * [<Out; MaybeNullWhen(false)>] id: byref<ProjectId> * [<Out>] problems: byref<Problem array> ->
            bool

    /// An id from text already validated (read back from storage, say); throws `ArgumentException` on invalid text.
    static member Of: raw: string -> ProjectId

/// The id of a cohort within its project (`mixpanel_cohort_id`).
type CohortId =
    private
    | CohortId of string

    /// The id as text.
    member Value: string

    /// The id as text.
    override ToString: unit -> string

    /// The most bytes of UTF-8 an id may take (255).
    static member MaxBytes: int

    /// Validates raw text; `path` names the value in the problem (a JSON path, an option's name).
    static member Create: path: string * raw: string | null -> Result<CohortId, Problem list>

    /// Validates raw text: true with the id, or false with every problem (`path` names the value in them).
    static member TryCreate:
        path: string * raw: string | null * [<Out; MaybeNullWhen(false)>] id: byref<CohortId> * [<Out>] problems: byref<Problem array> ->
            bool

    /// An id from text already validated (read back from storage, say); throws `ArgumentException` on invalid text.
    static member Of: raw: string -> CohortId

/// One export of a cohort (`mixpanel_session_id`): the set of pages that belong together.
type SessionId =
    private
    | SessionId of string

    /// The id as text.
    member Value: string

    /// The id as text.
    override ToString: unit -> string

    /// The most bytes of UTF-8 an id may take (255).
    static member MaxBytes: int

    /// Validates raw text; `path` names the value in the problem (a JSON path, an option's name).
    static member Create: path: string * raw: string | null -> Result<SessionId, Problem list>

    /// Validates raw text: true with the id, or false with every problem (`path` names the value in them).
    static member TryCreate:
        path: string * raw: string | null * [<Out; MaybeNullWhen(false)>] id: byref<SessionId> * [<Out>] problems: byref<Problem array> ->
            bool

    /// An id from text already validated (read back from storage, say); throws `ArgumentException` on invalid text.
    static member Of: raw: string -> SessionId

/// A Mixpanel user (`mixpanel_distinct_id`).
type DistinctId =
    private
    | DistinctId of string

    /// The id as text.
    member Value: string

    /// The id as text.
    override ToString: unit -> string

    /// The most bytes of UTF-8 an id may take (1024).
    static member MaxBytes: int

    /// Validates raw text; `path` names the value in the problem (a JSON path, an option's name).
    static member Create: path: string * raw: string | null -> Result<DistinctId, Problem list>

    /// Validates raw text: true with the id, or false with every problem (`path` names the value in them).
    static member TryCreate:
        path: string * raw: string | null * [<Out; MaybeNullWhen(false)>] id: byref<DistinctId> * [<Out>] problems: byref<Problem array> ->
            bool

    /// An id from text already validated (read back from storage, say); throws `ArgumentException` on invalid text.
    static member Of: raw: string -> DistinctId

// ==== Actions and pages ===========================================================================

/// What a webhook call carries.
type WebhookAction =
    /// The whole cohort: replace what is held with the union of the session's pages.
    | Members
    /// Users who entered the cohort since the last successful sync.
    | AddMembers
    /// Users who left the cohort since the last successful sync.
    | RemoveMembers

    /// The name on the wire and in storage: `members`, `add_members`, `remove_members`.
    member WireName: string

    /// The wire name.
    override ToString: unit -> string

    /// Every action.
    static member All: WebhookAction array

    static member internal tryParse: wireName: string | null -> WebhookAction option

    /// Reads a wire name: true with the action, false for anything else.
    static member TryParse: wireName: string | null * [<Out; MaybeNullWhen(false)>] action: byref<WebhookAction> -> bool

    /// Reads a wire name known to be valid (as stored); throws `ArgumentException` on anything else.
    static member FromWireName: wireName: string -> WebhookAction

/// A full copy (`members`) or a diff (`add_members` + `remove_members`).
type SessionKind =
    /// A `members` sync: the session's pages are the whole cohort.
    | Full
    /// An `add_members` + `remove_members` sync: the session's pages are the changes since the last sync.
    | Diff

    /// The kind of session a page of this action belongs to.
    static member Of: action: WebhookAction -> SessionKind

    /// Every kind.
    static member All: SessionKind array

    /// The actions whose pages must all be in before a session of this kind commits.
    member Actions: WebhookAction array

    /// The name as stored and served: `full`, `diff`.
    override ToString: unit -> string

    /// Reads the name `ToString` writes (as stored); throws `ArgumentException` on anything else.
    static member FromName: name: string -> SessionKind

/// `page_info`: this is page `PageCount` (from 1) of `TotalPages` for its session and action.
type PageInfo =
    {
        /// How many pages the action of the session has.
        TotalPages: int
        /// Which page this is, from 1.
        PageCount: int
    }

    /// The most pages a parsed `total_pages` may say (1,000,000).
    static member MaxTotalPages: int

/// A cohort member as Mixpanel exports it; absent fields are null.
type Member =
    {
        /// The user (`mixpanel_distinct_id`).
        DistinctId: DistinctId
        /// `email`, or null.
        Email: string | null
        /// `first_name`, or null.
        FirstName: string | null
        /// `last_name`, or null.
        LastName: string | null
        /// `phone_number`, or null.
        PhoneNumber: string | null
        /// A JSON object holding every other exported property, verbatim (nested objects included);
        /// `{}` when there are none.
        Properties: string
    }

/// One webhook call: one page of one action of one session of one cohort.
type WebhookPage =
    {
        /// What the page carries.
        Action: WebhookAction
        /// `mixpanel_project_id`.
        ProjectId: ProjectId
        /// `mixpanel_cohort_id`.
        CohortId: CohortId
        /// `mixpanel_cohort_name`, or null.
        CohortName: string | null
        /// `mixpanel_cohort_description`, or null.
        CohortDescription: string | null
        /// `mixpanel_session_id`.
        SessionId: SessionId
        /// `page_info`.
        PageInfo: PageInfo
        /// The page's members (an empty array for an empty page).
        Members: Member array
    }
