/// Plays syncs the way Mixpanel does, through a network that may fail: each page is called, judged,
/// retried with backoff, until the sync succeeds, fails or pauses. The receiver, the clock and the
/// faults enter through `IWorld`, so the convergence properties (in-memory receiver, virtual clock)
/// and `simulate` (HTTP, real clock) run this same code.
module CohortSync.Mixpanel.SyncRun

open System
open System.Collections.Generic
open System.Diagnostics
open System.Threading
open System.Threading.Tasks
open CohortSync.Domain
open CohortSync.Mixpanel.Sender

// ==== The world ===================================================================================

/// What a sync is played against.
type IWorld =
    /// Hands one copy of a page to the receiver: its HTTP status, or `NoAnswer` when the connection failed.
    abstract Post: page: WebhookPage -> Task<Answer>
    /// Waits before a retry.
    abstract Wait: delay: TimeSpan -> Task
    /// The network's fault for the next call (called once per call, in call order).
    abstract NextFault: unit -> Fault

/// One call of a page, as the sender saw it.
type CallRecord =
    { Page: WebhookPage
      /// 1 for the first call of the page, 2 for its first retry, and so on.
      Attempt: int
      Fault: Fault
      Answer: Answer
      Verdict: Verdict
      /// From the call to its answer, as the sender measured it.
      Latency: TimeSpan }

/// How one sync went.
type SyncReport =
    { Sync: PlannedSync
      Outcome: SyncOutcome
      /// Every call, in the order they ended.
      Calls: CallRecord array
      /// Copies held up in the network and delivered when the sync ended.
      LateDeliveries: int }

    member this.Retries = this.Calls |> Array.sumBy (fun c -> if c.Attempt > 1 then 1 else 0)
    member this.FaultsInjected = this.Calls |> Array.sumBy (fun c -> if c.Fault = NoFault then 0 else 1)
    member this.PagesAccepted = this.Calls |> Array.sumBy (fun c -> if c.Verdict = Verdict.Accepted then 1 else 0)

// ==== The network =================================================================================

/// The path between the sender and the receiver. It carries the faults the world picks; a
/// `Delayed` call is held here and reaches the receiver just after the sender's next call, or when
/// its sync ends (a request outlives its sender's patience by seconds, not by the 30 minutes
/// between syncs).
type Network(world: IWorld) =
    let held = Queue<WebhookPage>()

    let takeHeld () =
        lock held (fun () ->
            let pages = held.ToArray()
            held.Clear()
            pages)

    member _.World = world

    /// Calls the receiver with one page under the next fault; the answer the sender sees.
    member _.CallAsync(page: WebhookPage) : Task<Fault * Answer> =
        task {
            let fault = world.NextFault()
            let late = takeHeld ()
            let mutable answer = Answer.NoAnswer

            for _ in 1 .. Fault.copiesDelivered fault do
                let! a = world.Post page
                answer <- a

            match fault with
            | ReceiverRestarted -> ()
            | _ ->
                for p in late do
                    let! _ = world.Post p
                    ()

            if fault = Delayed then
                lock held (fun () -> held.Enqueue page)

            return fault, Fault.answerSeen fault answer
        }

    /// Delivers whatever is still held (their answers reach nobody); how many pages that was.
    member _.FlushAsync() : Task<int> =
        task {
            let late = takeHeld ()

            for p in late do
                let! _ = world.Post p
                ()

            return late.Length
        }

// ==== Playing a sync ==============================================================================

/// Plays one planned sync with up to `inFlight` pages called at once (Mixpanel's own concurrency
/// inside a session is not documented; 1 sends them one after another). A call given up on or
/// paused stops the sync: no new page is started, those in flight finish.
[<CompiledName("PlayAsync")>]
let playAsync (settings: Settings) (network: Network) (inFlight: int) (sync: PlannedSync) : Task<SyncReport> =
    let calls = List<CallRecord>()
    let next = ref -1
    let stopped = ref 0

    let rec callPage (page: WebhookPage) (attempt: int) : Task<Verdict> =
        task {
            let started = Stopwatch.GetTimestamp()
            let! fault, answer = network.CallAsync page
            let verdict = Call.judge settings attempt answer

            lock calls (fun () ->
                calls.Add
                    { Page = page
                      Attempt = attempt
                      Fault = fault
                      Answer = answer
                      Verdict = verdict
                      Latency = Stopwatch.GetElapsedTime started })

            match verdict with
            | Verdict.RetryAfter delay ->
                do! network.World.Wait delay
                return! callPage page (attempt + 1)
            | Verdict.Accepted
            | Verdict.GiveUp
            | Verdict.Pause _ -> return verdict
        }

    let worker () : Task =
        task {
            let mutable index = Interlocked.Increment &next.contents

            while index < sync.Pages.Length && Volatile.Read &stopped.contents = 0 do
                let! verdict = callPage sync.Pages[index] 1

                if verdict <> Verdict.Accepted then
                    Volatile.Write(&stopped.contents, 1)

                index <- Interlocked.Increment &next.contents
        }

    task {
        do! Task.WhenAll [| for _ in 1 .. max 1 inFlight -> worker () |]
        let! late = network.FlushAsync()

        // A page's last call carries its final verdict; only those can pause or give up.
        let outcome =
            match calls |> Seq.tryPick (fun c -> match c.Verdict with Verdict.Pause s -> Some s | _ -> None) with
            | Some status -> Paused status
            | None when calls |> Seq.exists (fun c -> c.Verdict = Verdict.GiveUp) -> Failed
            | None -> Succeeded

        return
            { Sync = sync
              Outcome = outcome
              Calls = calls.ToArray()
              LateDeliveries = late }
    }

/// A sync played, and the sender's memory after it.
type Played =
    { Sender: CohortSender
      Report: SyncReport }

/// The next sync of a cohort, planned at `now`, played, and recorded in the sender's memory.
[<CompiledName("NextSyncAsync")>]
let nextSyncAsync
    (settings: Settings)
    (network: Network)
    (inFlight: int)
    (now: DateTimeOffset)
    (sender: CohortSender)
    (cohort: SourceCohort)
    : Task<Played> =
    task {
        let sync = Sync.plan settings now sender cohort
        let! report = playAsync settings network inFlight sync
        return
            { Sender = Sync.complete sender sync report.Outcome
              Report = report }
    }
