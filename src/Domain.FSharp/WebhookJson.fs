namespace CohortSync.Domain

open System
open System.Buffers
open System.Diagnostics.CodeAnalysis
open System.Runtime.InteropServices
open System.Text.Encodings.Web
open System.Text.Json

/// Reads a webhook body into a `WebhookPage`, reporting every problem with its JSON path.
module WebhookJson =

    // ==== Reading ==================================================================================

    let private knownMemberFields =
        Collections.Generic.HashSet<string>(
            [ "mixpanel_distinct_id"; "email"; "first_name"; "last_name"; "phone_number" ],
            StringComparer.Ordinal
        )

    // Extra properties are kept as written: non-ASCII stays as it is rather than becoming \uXXXX.
    let private writerOptions = JsonWriterOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    let private tryProperty (name: string) (el: JsonElement) =
        match el.TryGetProperty name with
        | true, v when v.ValueKind <> JsonValueKind.Null && v.ValueKind <> JsonValueKind.Undefined -> Some v
        | _ -> None

    /// A JSON string as text. The reader accepts escapes that are not text (a lone surrogate such as
    /// `\uD800`), which only fail when read: they are a problem of the field, not a fault.
    let private text path (v: JsonElement) : Validation<string> =
        try
            Ok(nonNull (v.GetString()))
        with :? InvalidOperationException ->
            Validation.fail path "is not valid text (invalid UTF-8 or an unpaired surrogate)"

    /// Ids arrive as strings or, from some senders, as numbers: either way the text is the id.
    let private idText path (el: JsonElement option) : Validation<string> =
        match el with
        | None -> Validation.fail path "is required"
        | Some v when v.ValueKind = JsonValueKind.String -> text path v
        | Some v when v.ValueKind = JsonValueKind.Number -> Ok(v.GetRawText())
        | Some _ -> Validation.fail path "must be a string or a number"

    /// PostgreSQL text cannot hold NUL. In a name, an email or an exported property it is replaced
    /// (U+FFFD): one odd profile must not refuse, and so stall, a whole cohort's sync.
    let private withoutNul (s: string) =
        if s.Contains '\000' then s.Replace('\000', '\uFFFD') else s

    let private optionalText path (el: JsonElement option) : Validation<string | null> =
        match el with
        | None -> Ok null
        | Some v when v.ValueKind = JsonValueKind.String -> text path v |> Result.map (fun t -> withoutNul t)
        | Some v when v.ValueKind = JsonValueKind.Number -> Ok(v.GetRawText())
        | Some _ -> Validation.fail path "must be a string"

    let private integer path (el: JsonElement option) : Validation<int> =
        match el with
        | None -> Validation.fail path "is required"
        | Some v when v.ValueKind = JsonValueKind.Number ->
            match v.TryGetInt32() with
            | true, n -> Ok n
            | _ -> Validation.fail path "must be an integer"
        | Some v when v.ValueKind = JsonValueKind.String ->
            let styles, culture = Globalization.NumberStyles.None, Globalization.CultureInfo.InvariantCulture

            match text path v |> Result.map (fun t -> Int32.TryParse(t, styles, culture)) with
            | Ok(true, n) -> Ok n
            | _ -> Validation.fail path "must be an integer"
        | Some _ -> Validation.fail path "must be an integer"

    let private action (el: JsonElement option) : Validation<WebhookAction> =
        let expected = "must be one of members, add_members, remove_members"

        match el with
        | Some v when v.ValueKind = JsonValueKind.String ->
            match text "action" v |> Result.map WebhookAction.tryParse with
            | Ok(Some a) -> Ok a
            | _ -> Validation.fail "action" expected
        | Some _ -> Validation.fail "action" expected
        | None -> Validation.fail "action" "is required"

    /// `isEmpty`: the page has no members. Whether an empty call says `total_pages: 0` is not
    /// documented; refusing it would pause the sync, so 0 of 0 (or 1 of 0) reads as 1 of 1.
    let private pageInfo (isEmpty: bool) (parameters: JsonElement) : Validation<PageInfo> =
        let path = "parameters.page_info"

        match tryProperty "page_info" parameters with
        | None -> Validation.fail path "is required"
        | Some pi when pi.ValueKind <> JsonValueKind.Object -> Validation.fail path "must be an object"
        | Some pi ->
            validation {
                let! total = integer $"{path}.total_pages" (tryProperty "total_pages" pi)
                and! count = integer $"{path}.page_count" (tryProperty "page_count" pi)

                return!
                    if total = 0 && isEmpty && (count = 0 || count = 1) then
                        Ok { TotalPages = 1; PageCount = 1 }
                    elif total < 1 || total > PageInfo.MaxTotalPages then
                        Validation.fail $"{path}.total_pages" $"must be between 1 and {PageInfo.MaxTotalPages}"
                    elif count < 1 || count > total then
                        Validation.fail $"{path}.page_count" $"must be between 1 and total_pages ({total})"
                    else
                        Ok { TotalPages = total; PageCount = count }
            }

    /// Writes a value as it is, but for NUL in its strings and keys (see `withoutNul`).
    let rec private writeWithoutNul (w: Utf8JsonWriter) (v: JsonElement) =
        match v.ValueKind with
        | JsonValueKind.Object ->
            w.WriteStartObject()

            for p in v.EnumerateObject() do
                w.WritePropertyName(withoutNul p.Name)
                writeWithoutNul w p.Value

            w.WriteEndObject()
        | JsonValueKind.Array ->
            w.WriteStartArray()

            for item in v.EnumerateArray() do
                writeWithoutNul w item

            w.WriteEndArray()
        | JsonValueKind.String -> w.WriteStringValue(withoutNul (nonNull (v.GetString())))
        | _ -> v.WriteTo w

    // How the writer spells NUL: a written object holding these bytes has a NUL to replace.
    let private escapedNul = "\\u0000"B

    /// Writes every property that is not one of the named fields into one JSON object, verbatim.
    let private extraProperties (buffer: ArrayBufferWriter<byte>) (m: JsonElement) : string =
        let mutable any = false

        for p in m.EnumerateObject() do
            if not (knownMemberFields.Contains p.Name) then any <- true

        if not any then
            "{}"
        else
            let write (writeValue: Utf8JsonWriter -> JsonElement -> unit) (nameOf: string -> string) =
                buffer.ResetWrittenCount()
                use writer = new Utf8JsonWriter(buffer, writerOptions)
                writer.WriteStartObject()

                for p in m.EnumerateObject() do
                    if not (knownMemberFields.Contains p.Name) then
                        writer.WritePropertyName(nameOf p.Name)
                        writeValue writer p.Value

                writer.WriteEndObject()
                writer.Flush()

            write (fun w v -> v.WriteTo w) id

            if buffer.WrittenSpan.IndexOf(ReadOnlySpan escapedNul) >= 0 then
                write writeWithoutNul withoutNul

            Text.Encoding.UTF8.GetString buffer.WrittenSpan

    let private memberAt (buffer: ArrayBufferWriter<byte>) (i: int) (m: JsonElement) : Validation<Member> =
        let path = $"parameters.members[{i}]"

        if m.ValueKind <> JsonValueKind.Object then
            Validation.fail path "must be an object"
        else
            let field name = tryProperty name m
            let at name = $"{path}.{name}"

            validation {
                let! distinctId =
                    idText (at "mixpanel_distinct_id") (field "mixpanel_distinct_id")
                    |> Result.bind (fun raw -> DistinctId.Create(at "mixpanel_distinct_id", raw))
                and! email = optionalText (at "email") (field "email")
                and! firstName = optionalText (at "first_name") (field "first_name")
                and! lastName = optionalText (at "last_name") (field "last_name")
                and! phone = optionalText (at "phone_number") (field "phone_number")
                and! properties =
                    try
                        Ok(extraProperties buffer m)
                    with :? InvalidOperationException ->
                        Validation.fail path "has a property that is not valid text (invalid UTF-8 or an unpaired surrogate)"

                return
                    { DistinctId = distinctId
                      Email = email
                      FirstName = firstName
                      LastName = lastName
                      PhoneNumber = phone
                      Properties = properties }
            }

    /// The usual member, read in one pass over its fields without building a path for every check (a
    /// page holds a thousand members, and this is most of a page's parsing): an object whose known fields
    /// each appear once, as text, a number or null, with a valid id. Anything else is `None`, and
    /// `memberAt` reads the member again, naming each problem with its path; for a member both accept,
    /// both give the same `Member`.
    let private quickMember (buffer: ArrayBufferWriter<byte>) (m: JsonElement) : Member option =
        if m.ValueKind <> JsonValueKind.Object then
            None
        else
            let values: (string | null) array = Array.zeroCreate 5
            let mutable seen = 0
            let mutable extras = false
            let mutable ok = true
            let mutable e = m.EnumerateObject()

            while ok && e.MoveNext() do
                let p = e.Current

                // A name that is not text (an unpaired surrogate) is a problem of the member: -2, and
                // `memberAt` says so with its path.
                let field =
                    try
                        match p.Name with
                        | "mixpanel_distinct_id" -> 0
                        | "email" -> 1
                        | "first_name" -> 2
                        | "last_name" -> 3
                        | "phone_number" -> 4
                        | _ -> -1
                    with :? InvalidOperationException ->
                        -2

                if field = -2 then
                    ok <- false
                elif field < 0 then
                    extras <- true
                elif seen &&& (1 <<< field) <> 0 then
                    ok <- false
                else
                    seen <- seen ||| (1 <<< field)
                    let v = p.Value

                    match v.ValueKind with
                    | JsonValueKind.Null -> ()
                    | JsonValueKind.Number -> values[field] <- v.GetRawText()
                    | JsonValueKind.String ->
                        try
                            let t = nonNull (v.GetString())
                            values[field] <- if field = 0 then t else withoutNul t
                        with :? InvalidOperationException ->
                            ok <- false
                    | _ -> ok <- false

            if not ok then
                None
            else
                match DistinctId.Create("", values[0]) with
                | Error _ -> None
                | Ok distinctId ->
                    try
                        Some
                            { DistinctId = distinctId
                              Email = values[1]
                              FirstName = values[2]
                              LastName = values[3]
                              PhoneNumber = values[4]
                              Properties = if extras then extraProperties buffer m else "{}" }
                    with :? InvalidOperationException ->
                        None

    /// An empty diff may come without a list: that is an empty page. A full copy without its list is
    /// refused: read as empty, it would empty the cohort.
    let private members (fullCopy: bool) (parameters: JsonElement) : Validation<Member array> =
        match tryProperty "members" parameters with
        | None when fullCopy -> Validation.fail "parameters.members" "is required in a members call"
        | None -> Ok [||]
        | Some ms when ms.ValueKind <> JsonValueKind.Array -> Validation.fail "parameters.members" "must be an array"
        | Some ms ->
            let buffer = ArrayBufferWriter<byte>(256)
            ms.EnumerateArray()
            |> Seq.toArray
            |> Validation.traverseIndexed (fun i m ->
                match quickMember buffer m with
                | Some read -> Ok read
                | None -> memberAt buffer i m)

    let private page (root: JsonElement) : Validation<WebhookPage> =
        match tryProperty "parameters" root with
        | None ->
            Validation.map2 (fun _ e -> e) (action (tryProperty "action" root)) (Validation.fail "parameters" "is required")
        | Some p when p.ValueKind <> JsonValueKind.Object ->
            Validation.map2 (fun _ e -> e) (action (tryProperty "action" root)) (Validation.fail "parameters" "must be an object")
        | Some p ->
            let fullCopy =
                tryProperty "action" root
                |> Option.exists (fun a -> a.ValueKind = JsonValueKind.String && a.ValueEquals "members")

            let isEmpty =
                match tryProperty "members" p with
                | Some ms when ms.ValueKind = JsonValueKind.Array -> ms.GetArrayLength() = 0
                | Some _ -> false
                | None -> true

            let id path name create =
                idText path (tryProperty name p) |> Result.bind (fun raw -> create (path, raw))

            validation {
                let! action = action (tryProperty "action" root)
                and! projectId = id "parameters.mixpanel_project_id" "mixpanel_project_id" ProjectId.Create
                and! cohortId = id "parameters.mixpanel_cohort_id" "mixpanel_cohort_id" CohortId.Create
                and! sessionId = id "parameters.mixpanel_session_id" "mixpanel_session_id" SessionId.Create
                and! name = optionalText "parameters.mixpanel_cohort_name" (tryProperty "mixpanel_cohort_name" p)
                and! description =
                    optionalText "parameters.mixpanel_cohort_description" (tryProperty "mixpanel_cohort_description" p)
                and! pageInfo = pageInfo isEmpty p
                and! members = members fullCopy p

                return
                    { Action = action
                      ProjectId = projectId
                      CohortId = cohortId
                      CohortName = name
                      CohortDescription = description
                      SessionId = sessionId
                      PageInfo = pageInfo
                      Members = members }
            }

    // Some HTTP clients prefix UTF-8 bodies with a byte-order mark, which the JSON reader refuses.
    let private withoutByteOrderMark (body: ReadOnlyMemory<byte>) =
        if body.Span.StartsWith(ReadOnlySpan [| 0xEFuy; 0xBBuy; 0xBFuy |]) then body.Slice 3 else body

    /// Reads a request body. Every problem is reported, each with its JSON path.
    let parse (body: ReadOnlyMemory<byte>) : Validation<WebhookPage> =
        try
            use doc = JsonDocument.Parse(withoutByteOrderMark body)

            if doc.RootElement.ValueKind <> JsonValueKind.Object then
                Validation.fail "$" "must be a JSON object"
            else
                page doc.RootElement
        with :? JsonException as e ->
            // The reader's own message gives the position; it quotes at most one character of the body.
            Validation.fail "$" $"is not valid JSON ({e.Message})"

    /// The `action` of a body as sent, read from as much of the body as is at hand (a prefix is
    /// enough when, as in Mixpanel's bodies, `action` comes before `parameters`): echoed even when
    /// the body is refused unread (401, 413) or invalid (400).
    let tryReadAction (body: ReadOnlyMemory<byte>) : string option =
        let mutable reader = Utf8JsonReader((withoutByteOrderMark body).Span, false, JsonReaderState())
        let mutable found = None
        let mutable reading = true

        try
            if reader.Read() && reader.TokenType = JsonTokenType.StartObject then
                while reading && reader.Read() do
                    match reader.TokenType with
                    | JsonTokenType.PropertyName ->
                        let isAction = reader.ValueTextEquals "action"B

                        if not (reader.Read()) then
                            reading <- false
                        elif isAction then
                            if reader.TokenType = JsonTokenType.String then
                                found <- Option.ofObj (reader.GetString())

                            reading <- false
                        elif not (reader.TrySkip()) then
                            reading <- false
                    | _ -> reading <- false
        with
        | :? JsonException
        | :? InvalidOperationException -> ()

        found

/// The C#-facing reader: `if (!WebhookBody.TryParse(body, out var page, out var problems)) ...`.
[<AbstractClass; Sealed>]
type WebhookBody =
    static member TryParse(body: ReadOnlyMemory<byte>, [<Out; MaybeNullWhen(false)>] page: byref<WebhookPage>, [<Out>] problems: byref<Problem array>) =
        Text.tryOut (WebhookJson.parse body) &page &problems

    static member TryReadAction(body: ReadOnlyMemory<byte>) : string | null = WebhookJson.tryReadAction body |> Option.toObj
