/// The targeted-once ledger and the retry schedule (`Targeting`): whatever is read twice, replayed or
/// restarted, a destination is sent `entered` once per stay, and its batches, repeats removed, are the feed.
module CohortSync.Domain.Tests.TargetingProperties

open System
open CohortSync.Domain
open CohortSync.Domain.Targeting
open FsCheck
open FsCheck.FSharp

let private (|@) (holds: bool) (label: string) = Prop.label label holds

// ==== A feed of one cohort's commits ================================================================

let private pool = [| "u1"; "u2"; "u3"; "u4"; "u5" |]
let private cohort = "c1"
let private epoch = DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)

/// Commits of membership sets, each with its transitions in distinct-id order, as the feed orders them.
let private feedGen: Gen<Change array> =
    gen {
        let! commits = Gen.choose (1, 12)
        let! sets = Gen.listOfLength commits (Gen.subListOf pool |> Gen.map Set.ofSeq)
        let! gaps = Gen.listOfLength commits (Gen.choose (0, 180))
        let times = gaps |> List.scan (fun t minutes -> t + TimeSpan.FromMinutes(float minutes)) TimeSpan.Zero |> List.tail
        return
            List.zip sets times
            |> List.fold
                (fun (before, position, acc) (after: Set<string>, time) ->
                    let changes =
                        [ for user in Set.union before after |> Set.toList |> List.sortWith (fun a b -> String.CompareOrdinal(a, b)) do
                              let kind =
                                  match before.Contains user, after.Contains user with
                                  | false, true -> Some Entered
                                  | true, false -> Some Exited
                                  | _ -> None
                              match kind with
                              | Some k ->
                                  { Position = { CommitPosition = position; DistinctId = user }
                                    CohortId = cohort
                                    DistinctId = user
                                    Kind = k
                                    CommittedAt = epoch + time }
                              | None -> () ]
                    // Like the feed, a commit that changes nothing takes no position.
                    after, (if changes.IsEmpty then position else position + 1L), acc @ changes)
                (Set.empty, 1L, [])
            |> fun (_, _, changes) -> List.toArray changes
    }

/// How the changes reach the ledger: runs of any length, and after any run, going back any distance
/// (a repeated read, a redelivery, a restart from an older place).
type private Step =
    | Read of int
    | Back of int

let private stepsGen =
    Gen.listOf (Gen.frequency [ 3, Gen.choose (1, 6) |> Gen.map Read; 1, Gen.choose (1, 8) |> Gen.map Back ])

/// Plays the steps (then reads to the end) against a stored ledger, as the host does: each run is decided
/// against the stored rows of its users, and the rows it returns are stored.
let private play (policy: Policy) (feed: Change array) (steps: Step list) =
    let mutable stored: Map<string * string, LedgerEntry> = Map.empty
    let sent = ResizeArray<Change>()
    let run (changes: Change array) =
        let known =
            changes |> Array.choose (fun c -> stored.TryFind(c.CohortId, c.DistinctId)) |> Array.distinct
        let plan = Ledger.plan (policy, known, changes)
        sent.AddRange plan.Send
        for e in plan.Ledger do
            stored <- stored.Add((e.CohortId, e.DistinctId), e)
    let mutable at = 0
    for step in steps do
        match step with
        | Read n ->
            let until = min feed.Length (at + n)
            run feed[at .. until - 1]
            at <- until
        | Back n -> at <- max 0 (at - n)
    run feed[at..]
    List.ofSeq sent

let private everything = { SendsEntered = true; SendsExited = true; ReentryCooldown = TimeSpan.Zero }

let private property = Prop.forAll (Arb.fromGen (Gen.zip feedGen stepsGen))

// ==== Targeted once ================================================================================

[<DomainProperty>]
let ``under any repetition, replay and restart the ledger sends each transition of the feed once, in order`` () =
    property (fun (feed, steps) ->
        let sent = play everything feed steps
        sent = List.ofArray feed |@ $"sent {sent}")

[<DomainProperty>]
let ``entered is sent once per stay, and a return within the cooldown is not targeted again`` () =
    let cooldown = TimeSpan.FromHours 2.
    let policy = { SendsEntered = true; SendsExited = false; ReentryCooldown = cooldown }
    property (fun (feed, steps) ->
        let sent = play policy feed steps
        let once = play policy feed []
        // A stay is an entered transition; with the cooldown, one that follows its user's exit by less than it continues the stay before.
        let expected =
            feed
            |> Array.fold
                (fun (exits: Map<string, DateTime>, acc) c ->
                    match c.Kind with
                    | Exited -> exits.Add(c.DistinctId, c.CommittedAt), acc
                    | Entered ->
                        let returning = exits.TryFind c.DistinctId |> Option.exists (fun t -> c.CommittedAt - t < cooldown)
                        exits, (if returning then acc else acc @ [ c ]))
                (Map.empty, [])
            |> snd
        (sent = once |@ "repetition changed what was sent")
        .&. (sent = expected |@ $"sent {sent}, expected {expected}")
        .&. (sent |> List.forall (fun c -> c.Kind = Entered) |@ "an exit was sent to an entered-only destination"))

// ==== Batches ======================================================================================

/// A batch as stored: its id and changes are fixed when formed.
type private Batch = { Id: int; Changes: Change list }

[<DomainProperty>]
let ``batches formed atomically and delivered at least once concatenate, repeats removed, to the feed in order`` () =
    let gen =
        gen {
            let! feed = feedGen
            let! size = Gen.choose (1, 4)
            // For each forming: does the host crash before it commits? For each attempt: is it answered, lost, or duplicated?
            let! crashes = Gen.listOfLength 64 (Gen.frequency [ 4, Gen.constant false; 1, Gen.constant true ])
            let! answers = Gen.listOfLength 256 (Gen.elements [ "ok"; "ok"; "lost"; "twice"; "fail" ])
            return feed, size, crashes, answers
        }
    Prop.forAll (Arb.fromGen gen) (fun (feed, size, crashes, answers) ->
        // Forming: a read of up to `size` changes, decided by the ledger, and stored with the new place, or lost whole.
        let mutable place = 0
        let mutable ledger: Map<string * string, LedgerEntry> = Map.empty
        let batches = ResizeArray<Batch>()
        let mutable crashesLeft = crashes
        while place < feed.Length do
            let read = feed[place .. min feed.Length (place + size) - 1]
            let known = read |> Array.choose (fun c -> ledger.TryFind(c.CohortId, c.DistinctId)) |> Array.distinct
            let plan = Ledger.plan (everything, known, read)
            let crashed =
                match crashesLeft with
                | c :: rest -> crashesLeft <- rest; c
                | [] -> false
            if not crashed then
                if plan.Send.Length > 0 then
                    batches.Add { Id = batches.Count + 1; Changes = List.ofArray plan.Send }
                for e in plan.Ledger do
                    ledger <- ledger.Add((e.CohortId, e.DistinctId), e)
                place <- place + read.Length
        // Delivery: each batch in turn until one attempt is answered; a lost answer is a delivery the sender retries.
        let received = ResizeArray<Batch>()
        let mutable answersLeft = answers
        for batch in batches do
            let mutable delivered = false
            while not delivered do
                let answer =
                    match answersLeft with
                    | a :: rest -> answersLeft <- rest; a
                    | [] -> "ok"
                match answer with
                | "ok" -> received.Add batch; delivered <- true
                | "twice" -> received.Add batch; received.Add batch; delivered <- true
                | "lost" -> received.Add batch
                | _ -> ()
        let deduplicated = received |> Seq.distinctBy _.Id |> Seq.collect _.Changes |> List.ofSeq
        (deduplicated = List.ofArray feed |@ $"received {deduplicated}")
        .&. (batches |> Seq.forall (fun b -> b.Changes.Length <= size) |@ "a batch over its size")
        .&. (received |> Seq.pairwise |> Seq.forall (fun (a, b) -> a.Id <= b.Id) |@ "batches out of order"))

// ==== The retry schedule ===========================================================================

[<DomainProperty>]
let ``the retry schedule waits as scheduled, at most a tenth longer, honours a longer Retry-After, and ends`` () =
    let delays = RetrySchedule.standard
    let gen =
        gen {
            let! attempt = Gen.choose (-1, delays.Length + 2)
            let! jitter = Gen.choose (0, 999) |> Gen.map (fun n -> float n / 1000.)
            let! retryAfter = Gen.oneof [ Gen.constant -1.; Gen.choose (0, 200_000) |> Gen.map float ]
            return attempt, jitter, retryAfter
        }
    Prop.forAll (Arb.fromGen gen) (fun (attempt, jitter, retryAfterSeconds) ->
        let retryAfter = if retryAfterSeconds < 0. then TimeSpan.FromTicks -1L else TimeSpan.FromSeconds retryAfterSeconds
        let wait = RetrySchedule.next (delays, attempt, jitter, retryAfter)
        if attempt < 1 || attempt >= delays.Length then
            wait < TimeSpan.Zero |@ $"attempt {attempt} is past the schedule, yet waits {wait}"
        else
            let scheduled = delays[attempt]
            let jittered = wait >= scheduled && wait <= scheduled + TimeSpan.FromTicks(scheduled.Ticks / 10L)
            let asked = retryAfter > scheduled + TimeSpan.FromTicks(scheduled.Ticks / 10L)
            if asked then
                (wait = min retryAfter (TimeSpan.FromHours 24.))
                |@ $"attempt {attempt}: Retry-After {retryAfter}, waits {wait}"
            else
                jittered |@ $"attempt {attempt}: scheduled {scheduled}, waits {wait}")

[<DomainProperty>]
let ``a batch that always fails is attempted exactly as often as the schedule has steps, at its times`` () =
    let delays = RetrySchedule.standard
    Prop.forAll (Arb.fromGen (Gen.listOfLength delays.Length (Gen.choose (0, 999)))) (fun jitters ->
        let rec attempts (attempt: int) (at: TimeSpan) (jitters: int list) acc =
            let acc = at :: acc
            let wait = RetrySchedule.next (delays, attempt, float (List.head jitters) / 1000., TimeSpan.FromTicks -1L)
            if wait < TimeSpan.Zero then List.rev acc else attempts (attempt + 1) (at + wait) (List.tail jitters) acc
        let times = attempts 1 TimeSpan.Zero jitters []
        let earliest = delays |> Array.scan (+) TimeSpan.Zero |> Array.tail
        (times.Length = delays.Length |@ $"{times.Length} attempts")
        .&. (List.zip times (List.ofArray earliest)
             |> List.forall (fun (t, e) -> t >= e && t <= e + TimeSpan.FromTicks(e.Ticks / 10L))
             |@ $"attempt times {times}"))
