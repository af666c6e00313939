namespace CohortSync.Domain

open System
open System.Diagnostics.CodeAnalysis
open System.Runtime.InteropServices

// ==== Identifiers =================================================================================
// Mixpanel sends its ids as strings, but some senders use JSON numbers: both are kept as their text.

module internal Text =
    /// Ids are stored as PostgreSQL text and index keys: no NUL, and a bound in bytes, not characters.
    let check (limitBytes: int) (path: string) (raw: string | null) : Validation<string> =
        match raw with
        | null -> Validation.fail path "must not be empty"
        | raw when String.IsNullOrWhiteSpace raw -> Validation.fail path "must not be empty"
        | raw when raw.Contains '\000' -> Validation.fail path "must not contain the NUL character (U+0000)"
        | raw when Text.Encoding.UTF8.GetByteCount raw > limitBytes ->
            Validation.fail path $"must be at most {limitBytes} bytes of UTF-8"
        | raw -> Ok raw

    let orThrow (name: string) (v: Validation<'T>) =
        match v with
        | Ok x -> x
        | Error ps -> invalidArg name (ps |> List.map string |> String.concat "; ")

    /// The C# form of a validation: true with the value, or false with every problem.
    let tryOut (v: Validation<'T>) (value: byref<'T>) (problems: byref<Problem array>) =
        match v with
        | Ok x ->
            value <- x
            problems <- [||]
            true
        | Error ps ->
            value <- Unchecked.defaultof<_>
            problems <- Array.ofList ps
            false

/// The id of the Mixpanel project that produced a cohort (`mixpanel_project_id`).
type ProjectId =
    private
    | ProjectId of string

    member this.Value = let (ProjectId v) = this in v
    override this.ToString() = this.Value
    static member MaxBytes = 255
    static member Create(path: string, raw: string | null) = Text.check ProjectId.MaxBytes path raw |> Result.map ProjectId

    static member TryCreate(path: string, raw: string | null, [<Out; MaybeNullWhen(false)>] id: byref<ProjectId>, [<Out>] problems: byref<Problem array>) =
        Text.tryOut (ProjectId.Create(path, raw)) &id &problems

    static member Of(raw: string) = ProjectId.Create("projectId", raw) |> Text.orThrow "raw"

/// The id of a cohort within its project (`mixpanel_cohort_id`).
type CohortId =
    private
    | CohortId of string

    member this.Value = let (CohortId v) = this in v
    override this.ToString() = this.Value
    static member MaxBytes = 255
    static member Create(path: string, raw: string | null) = Text.check CohortId.MaxBytes path raw |> Result.map CohortId

    static member TryCreate(path: string, raw: string | null, [<Out; MaybeNullWhen(false)>] id: byref<CohortId>, [<Out>] problems: byref<Problem array>) =
        Text.tryOut (CohortId.Create(path, raw)) &id &problems

    static member Of(raw: string) = CohortId.Create("cohortId", raw) |> Text.orThrow "raw"

/// One export of a cohort (`mixpanel_session_id`): the set of pages that belong together.
type SessionId =
    private
    | SessionId of string

    member this.Value = let (SessionId v) = this in v
    override this.ToString() = this.Value
    static member MaxBytes = 255
    static member Create(path: string, raw: string | null) = Text.check SessionId.MaxBytes path raw |> Result.map SessionId

    static member TryCreate(path: string, raw: string | null, [<Out; MaybeNullWhen(false)>] id: byref<SessionId>, [<Out>] problems: byref<Problem array>) =
        Text.tryOut (SessionId.Create(path, raw)) &id &problems

    static member Of(raw: string) = SessionId.Create("sessionId", raw) |> Text.orThrow "raw"

/// A Mixpanel user (`mixpanel_distinct_id`).
type DistinctId =
    private
    | DistinctId of string

    member this.Value = let (DistinctId v) = this in v
    override this.ToString() = this.Value
    static member MaxBytes = 1024
    static member Create(path: string, raw: string | null) = Text.check DistinctId.MaxBytes path raw |> Result.map DistinctId

    static member TryCreate(path: string, raw: string | null, [<Out; MaybeNullWhen(false)>] id: byref<DistinctId>, [<Out>] problems: byref<Problem array>) =
        Text.tryOut (DistinctId.Create(path, raw)) &id &problems

    static member Of(raw: string) = DistinctId.Create("distinctId", raw) |> Text.orThrow "raw"

// ==== Actions and pages ===========================================================================

/// What a webhook call carries.
type WebhookAction =
    /// The whole cohort: replace what is held with the union of the session's pages.
    | Members
    /// Users who entered the cohort since the last successful sync.
    | AddMembers
    /// Users who left the cohort since the last successful sync.
    | RemoveMembers

    /// The name on the wire: `members`, `add_members`, `remove_members`.
    member this.WireName =
        match this with
        | Members -> "members"
        | AddMembers -> "add_members"
        | RemoveMembers -> "remove_members"

    override this.ToString() = this.WireName

    static member All = [| Members; AddMembers; RemoveMembers |]

    static member internal tryParse(wireName: string | null) =
        WebhookAction.All |> Array.tryFind (fun a -> String.Equals(a.WireName, wireName))

    static member TryParse(wireName: string | null, [<Out; MaybeNullWhen(false)>] action: byref<WebhookAction>) =
        match WebhookAction.tryParse wireName with
        | Some a ->
            action <- a
            true
        | None ->
            action <- Unchecked.defaultof<_>
            false

    static member FromWireName(wireName: string) =
        match WebhookAction.tryParse wireName with
        | Some a -> a
        | None -> invalidArg (nameof wireName) $"not a webhook action: {wireName}"

/// A full copy (`members`) or a diff (`add_members` + `remove_members`).
type SessionKind =
    | Full
    | Diff

    static member Of(action: WebhookAction) =
        match action with
        | Members -> Full
        | AddMembers
        | RemoveMembers -> Diff

    static member All = [| Full; Diff |]

    /// The actions whose pages must all be in before a session of this kind commits.
    member this.Actions =
        match this with
        | Full -> [| Members |]
        | Diff -> [| AddMembers; RemoveMembers |]

    override this.ToString() =
        match this with
        | Full -> "full"
        | Diff -> "diff"

    /// Reads the name `ToString` writes (as stored); throws on anything else.
    static member FromName(name: string) =
        match name with
        | "full" -> Full
        | "diff" -> Diff
        | other -> invalidArg (nameof name) $"not a session kind: {other}"

/// `page_info`: this is page `PageCount` (from 1) of `TotalPages` for its session and action.
type PageInfo =
    { TotalPages: int
      PageCount: int }

    /// Mixpanel sends at most 1,000 users a page and 10 million a cohort; this bound leaves room.
    static member MaxTotalPages = 1_000_000

/// A cohort member as Mixpanel exports it. `Properties` is a JSON object holding every other
/// exported property, verbatim (nested objects included); `{}` when there are none.
type Member =
    { DistinctId: DistinctId
      Email: string | null
      FirstName: string | null
      LastName: string | null
      PhoneNumber: string | null
      Properties: string }

/// One webhook call: one page of one action of one session of one cohort.
type WebhookPage =
    { Action: WebhookAction
      ProjectId: ProjectId
      CohortId: CohortId
      CohortName: string | null
      CohortDescription: string | null
      SessionId: SessionId
      PageInfo: PageInfo
      Members: Member array }
