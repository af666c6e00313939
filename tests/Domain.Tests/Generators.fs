namespace CohortSync.Domain.Tests

open System
open System.Buffers
open System.Text.Encodings.Web
open System.Text.Json
open CohortSync.Domain
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit

// ==== Generators ==================================================================================

module Generate =

    /// What a cohort's pages share.
    type private Cohort =
        { Project: ProjectId
          Cohort: CohortId
          Name: string option
          Description: string option
          SessionPrefix: string
          Pool: DistinctId array }

    // Pieces of text that JSON escapes differently: non-ASCII, a surrogate pair, quotes, controls.
    let private pieces =
        [ "a"; "b"; "z"; "Q"; "0"; "7"; " "; "-"; "_"; "."; "é"; "ß"; "Ω"; "日本"; "😀"; "\""; "\\"; "\n"; "\t"
          "<&>"; "'"; "+"; "\u0001" ]

    let private text: Gen<string> =
        gen {
            let! n = Gen.choose (0, 6)
            let! parts = Gen.listOfLength n (Gen.elements pieces)
            return String.concat "" parts
        }

    // Candidate ids, some numeric and some non-ASCII; a pool takes a few so sessions overlap.
    let private distinctIds =
        [ "u1"; "u2"; "u3"; "u4"; "u5"; "u6"; "42"; "1007"; "élodie"; "ユーザー"; "ann@example.com"
          "$device:7f3a"; "a b" ]

    let private writerOptions =
        JsonWriterOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    /// Writes JSON the way WebhookJson keeps extras, so a generated member equals its parsed copy.
    let private renderJson (write: Utf8JsonWriter -> unit) =
        let buffer = ArrayBufferWriter<byte>()
        using (new Utf8JsonWriter(buffer, writerOptions)) (fun w -> write w; w.Flush())
        Text.Encoding.UTF8.GetString buffer.WrittenSpan

    let private knownMemberFields =
        set [ "mixpanel_distinct_id"; "email"; "first_name"; "last_name"; "phone_number" ]

    let private keys =
        Gen.oneof [ Gen.elements [ "plan"; "$city"; "score"; "tags"; "Ünïcode"; "customProperties"; "" ]; text ]

    let private distinctKeys n (allowed: string -> bool) =
        Gen.listOfLength n keys |> Gen.map (List.filter allowed >> List.distinct)

    let rec private jsonValue (depth: int) : Gen<Utf8JsonWriter -> unit> =
        let leaf =
            Gen.oneof
                [ text |> Gen.map (fun s (w: Utf8JsonWriter) -> w.WriteStringValue s)
                  Gen.choose (-1000, 1000) |> Gen.map (fun n (w: Utf8JsonWriter) -> w.WriteNumberValue n)
                  Gen.elements [ 0.5; -1.25; 3.0e10 ] |> Gen.map (fun d (w: Utf8JsonWriter) -> w.WriteNumberValue d)
                  Gen.elements [ true; false ] |> Gen.map (fun b (w: Utf8JsonWriter) -> w.WriteBooleanValue b)
                  Gen.constant (fun (w: Utf8JsonWriter) -> w.WriteNullValue()) ]

        if depth = 0 then
            leaf
        else
            let array =
                gen {
                    let! n = Gen.choose (0, 3)
                    let! items = Gen.listOfLength n (jsonValue (depth - 1))

                    return
                        fun (w: Utf8JsonWriter) ->
                            w.WriteStartArray()
                            items |> List.iter (fun item -> item w)
                            w.WriteEndArray()
                }

            Gen.frequency [ 4, leaf; 1, jsonObject (depth - 1) (fun _ -> true); 1, array ]

    and private jsonObject (depth: int) (allowed: string -> bool) : Gen<Utf8JsonWriter -> unit> =
        gen {
            let! n = Gen.choose (0, 4)
            let! names = distinctKeys n allowed
            let! values = Gen.listOfLength names.Length (jsonValue depth)

            return
                fun (w: Utf8JsonWriter) ->
                    w.WriteStartObject()

                    for name, value in List.zip names values do
                        w.WritePropertyName name
                        value w

                    w.WriteEndObject()
        }

    /// Extra exported properties: top-level names never clash with the named member fields.
    let private extras: Gen<string> =
        Gen.frequency
            [ 3, Gen.constant "{}"
              2, jsonObject 2 (knownMemberFields.Contains >> not) |> Gen.map renderJson ]

    let private memberOf (pool: DistinctId array) : Gen<Member> =
        gen {
            let! id = Gen.elements pool
            let! email = Gen.optionOf (text |> Gen.map (fun t -> t + "@example.com"))
            let! firstName = Gen.optionOf text
            let! lastName = Gen.optionOf text
            let! phone = Gen.optionOf (Gen.elements [ "+33 6 12 34 56 78"; "555-0100"; "" ])
            let! properties = extras

            return
                { DistinctId = id
                  Email = Option.toObj email
                  FirstName = Option.toObj firstName
                  LastName = Option.toObj lastName
                  PhoneNumber = Option.toObj phone
                  Properties = properties }
        }

    let private cohort: Gen<Cohort> =
        gen {
            let! project = Gen.elements [ "1"; "2735817"; "projet-é" ]
            let! cohortId = Gen.elements [ "9"; "cohort-42"; "コホート" ]
            let! name = Gen.optionOf text
            let! description = Gen.optionOf text
            let! prefix = Gen.elements [ "sync"; "1700000000"; "séance" ]
            let! poolSize = Gen.choose (1, 8)
            let! pool = Gen.shuffle distinctIds

            return
                { Project = ProjectId.Of project
                  Cohort = CohortId.Of cohortId
                  Name = name
                  Description = description
                  SessionPrefix = prefix
                  Pool = pool |> Array.truncate poolSize |> Array.map DistinctId.Of }
        }

    let private sessionId (c: Cohort) (index: int) = SessionId.Of $"{c.SessionPrefix}-{index}"

    let private page (c: Cohort) sessionId action (info: PageInfo) members =
        { Action = action
          ProjectId = c.Project
          CohortId = c.Cohort
          CohortName = Option.toObj c.Name
          CohortDescription = Option.toObj c.Description
          SessionId = sessionId
          PageInfo = info
          Members = members }

    /// One action's members spread over 1 to 4 pages; a page may be empty.
    let private pagesOf (c: Cohort) sessionId action (members: Member list) : Gen<WebhookPage list> =
        gen {
            let! total = Gen.choose (1, 4)
            let! slots = Gen.listOfLength members.Length (Gen.choose (1, total))
            let placed = List.zip members slots

            return
                [ for n in 1..total ->
                      let onPage = placed |> List.filter (fun (_, slot) -> slot = n) |> List.map fst
                      page c sessionId action { TotalPages = total; PageCount = n } (Array.ofList onPage) ]
        }

    let private membersOf (c: Cohort) =
        Gen.choose (0, 8) |> Gen.bind (fun n -> Gen.listOfLength n (memberOf c.Pool))

    let private session (c: Cohort) (index: int) : Gen<SentSession> =
        let id = sessionId c index

        gen {
            let! kind = Gen.elements [ Full; Diff ]

            match kind with
            | Full ->
                let! pages = membersOf c |> Gen.bind (pagesOf c id Members)
                return { SessionId = id; Kind = Full; Pages = pages }
            | Diff ->
                let! added = membersOf c |> Gen.bind (pagesOf c id AddMembers)
                let! removed = membersOf c |> Gen.bind (pagesOf c id RemoveMembers)
                return { SessionId = id; Kind = Diff; Pages = added @ removed }
        }

    /// The pages in any order, each at least once, some repeated.
    let private schedule (pages: WebhookPage list) : Gen<WebhookPage list> =
        gen {
            let! repeats = Gen.choose (0, pages.Length) |> Gen.bind (fun n -> Gen.listOfLength n (Gen.elements pages))
            let! order = Gen.shuffle (pages @ repeats)
            return List.ofArray order
        }

    let private sessions (c: Cohort) (count: int) =
        [ 0 .. count - 1 ] |> Gen.collectToList (session c)

    let private scheduled (s: SentSession) =
        schedule s.Pages |> Gen.map (fun order -> { Session = s; Schedule = order })

    /// Fewer sessions, or a session's pages once and in order: what remains still describes a run.
    let shrinkRun (run: CohortRun) : CohortRun seq =
        seq {
            if run.Sessions.Length > 1 then
                for i in 0 .. run.Sessions.Length - 1 do
                    yield { Sessions = run.Sessions |> List.removeAt i }

            for i, s in List.indexed run.Sessions do
                if s.Schedule <> s.Session.Pages then
                    yield { Sessions = run.Sessions |> List.updateAt i { s with Schedule = s.Session.Pages } }
        }

    let cohortRun: Gen<CohortRun> =
        gen {
            let! c = cohort
            let! count = Gen.choose (1, 5)
            let! all = sessions c count
            let! runs = all |> Gen.collectToList scheduled
            return { Sessions = runs }
        }

    /// A cohort with some sessions committed first, then the subject of a property.
    let private afterSessions (subject: Cohort -> int -> Gen<'T>) : Gen<'T> =
        gen {
            let! c = cohort
            let! count = Gen.choose (0, 3)
            return! subject c count
        }

    /// A non-empty strict part of a session's pages (so it cannot commit), and the rest.
    let private split (s: SentSession) =
        gen {
            let! order = Gen.shuffle s.Pages
            let! cut = Gen.choose (1, order.Length - 1)
            return List.ofArray order[.. cut - 1], List.ofArray order[cut..]
        }

    let private sessionOfSeveralPages c index =
        session c index |> Gen.where (fun s -> s.Pages.Length >= 2)

    let interrupted: Gen<Interrupted> =
        afterSessions (fun c count ->
            gen {
                let! committed = sessions c count
                let! older = sessionOfSeveralPages c count
                let! first, rest = split older
                let! firstPart = schedule first
                let! again = Gen.subListOf firstPart
                let! newer = session c (count + 1) |> Gen.bind scheduled
                let! tail = Gen.shuffle (rest @ again @ newer.Schedule.Tail)

                return
                    { Committed = committed
                      Older = older
                      OlderFirstPart = firstPart
                      NewerFirstPage = newer.Schedule.Head
                      Newer = newer.Session
                      Tail = List.ofArray tail }
            })

    let restarted: Gen<Restarted> =
        afterSessions (fun c count ->
            gen {
                let! earlier = sessions c count
                let! next = session c count |> Gen.bind scheduled
                let! action = Gen.elements next.Session.Kind.Actions
                let real = next.Session.Pages |> List.find (fun p -> p.Action = action)
                let! staleTotal = Gen.choose (2, 5) |> Gen.where ((<>) real.PageInfo.TotalPages)
                let! staleCounts = Gen.shuffle [ 1..staleTotal ]
                let! howMany = Gen.choose (1, staleTotal - 1)
                let stalePage n members =
                    page c next.Session.SessionId action { TotalPages = staleTotal; PageCount = n } (Array.ofList members)

                let! stale = staleCounts[.. howMany - 1] |> Gen.collectToList (fun n -> membersOf c |> Gen.map (stalePage n))

                return { Earlier = earlier; Stale = stale; Next = next }
            })

    let partialDiff: Gen<PartialDiff> =
        afterSessions (fun c count ->
            gen {
                let! prior = sessions c count
                let! diff = session c count |> Gen.where (fun s -> s.Kind = Diff)
                let! held = Gen.elements [ AddMembers; RemoveMembers ]
                let ofHeld, others = diff.Pages |> List.partition (fun p -> p.Action = held)
                let! withheld = Gen.subListOf ofHeld |> Gen.where (List.isEmpty >> not)
                let sent = others @ (ofHeld |> List.except withheld)
                let! firstPart = schedule sent
                let! rest = schedule withheld

                return { Prior = prior; Diff = diff; FirstPart = firstPart; Withheld = rest }
            })

    let conflicting: Gen<Conflicting> =
        afterSessions (fun c count ->
            gen {
                let! settled = sessions c count
                let! openSession = sessionOfSeveralPages c count
                let! delivered, _ = split openSession
                let! action =
                    Gen.elements (WebhookAction.All |> Array.filter (fun a -> SessionKind.Of a <> openSession.Kind))
                let! total = Gen.choose (1, 3)
                let! count = Gen.choose (1, total)
                let! members = membersOf c
                let info = { TotalPages = total; PageCount = count }
                let intruder = page c openSession.SessionId action info (Array.ofList members)

                return
                    { Settled = settled
                      Open = openSession
                      Delivered = delivered
                      Intruder = intruder }
            })

    let interleaving: Gen<Interleaving> =
        gen {
            let! c = cohort
            let! count = Gen.choose (1, 4)
            let! all = sessions c count
            let! pages = schedule (all |> List.collect _.Pages)
            let! intruders =
                all
                |> Gen.collectToList (fun s ->
                    gen {
                        let! action = Gen.elements (WebhookAction.All |> Array.filter (fun a -> SessionKind.Of a <> s.Kind))
                        return page c s.SessionId action { TotalPages = 1; PageCount = 1 } [||]
                    })
            let! withIntruders = Gen.shuffle (pages @ intruders)

            return
                { All = all
                  Pages = pages
                  WithIntruders = List.ofArray withIntruders }
        }

    /// A single page of any action, as the JSON properties need; total_pages reaches its bound.
    let webhookPage: Gen<WebhookPage> =
        gen {
            let! c = cohort
            let! action = Gen.elements WebhookAction.All
            let! total = Gen.frequency [ 5, Gen.choose (1, 5); 1, Gen.constant PageInfo.MaxTotalPages ]
            let! count = Gen.choose (1, total)
            let! n = Gen.choose (0, 5)
            let! members = Gen.arrayOfLength n (memberOf c.Pool)
            let! index = Gen.choose (0, 99)
            return page c (sessionId c index) action { TotalPages = total; PageCount = count } members
        }

    let jsonNumberText: Gen<JsonNumberText> =
        Gen.oneof
            [ Gen.choose64 (Int64.MinValue, Int64.MaxValue)
              |> Gen.map (fun n -> n.ToString Globalization.CultureInfo.InvariantCulture)
              Gen.elements [ "0"; "-0"; "1.5e3"; "3.14"; "123456789012345678901234567890"; "1E-7" ] ]
        |> Gen.map JsonNumberText

/// The domain's generators, for every property of this project.
type Arbitraries =
    static member CohortRun() = Arb.fromGenShrink (Generate.cohortRun, Generate.shrinkRun)
    static member Interrupted() = Arb.fromGen Generate.interrupted
    static member Restarted() = Arb.fromGen Generate.restarted
    static member PartialDiff() = Arb.fromGen Generate.partialDiff
    static member Conflicting() = Arb.fromGen Generate.conflicting
    static member Interleaving() = Arb.fromGen Generate.interleaving
    static member WebhookPage() = Arb.fromGen Generate.webhookPage
    static member JsonNumberText() = Arb.fromGen Generate.jsonNumberText

/// The shared property attribute. A failure prints "Falsifiable, after n tests (k shrinks)
/// (seed,gamma)"; to replay it, set COHORTSYNC_FSCHECK_REPLAY="seed,gamma" (FsCheck.Xunit reads
/// the attribute instance, so a value set at its construction counts), or give the one property
/// `Replay = "seed,gamma"`.
type DomainPropertyAttribute() as this =
    inherit PropertyAttribute(QuietOnSuccess = true, Arbitrary = [| typeof<Arbitraries> |], MaxTest = 500)

    do Replay.fromEnvironment () |> Option.iter (fun replay -> this.Replay <- replay)
