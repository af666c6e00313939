namespace CohortSync.Domain.Tests

// Cohort histories and fault schedules: what the convergence properties are given.

open System
open CohortSync.Domain
open CohortSync.Mixpanel.Sender
open FsCheck
open FsCheck.FSharp

/// What happens between two syncs, and what the network does to that sync's calls.
type Tick =
    { Changes: CohortChange list
      /// One fault per call, in call order; calls past the end meet no fault.
      Faults: Fault list }

/// A cohort's life at Mixpanel, one tick per scheduled sync, and the network it is synced through.
type History =
    { Cohort: SourceCohort
      Ticks: Tick list }

module Histories =

    /// Small pages and a short snapshot lifetime, so that few members span several pages and two
    /// failed syncs in a row (an outage) bring the full copy that an expired snapshot brings.
    let settings =
        { Settings.Mixpanel with
            PageSize = 2
            SnapshotLifetime = TimeSpan.FromHours 1.0 }

    let start = DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero)

    let private ids = [| for i in 1..10 -> DistinctId.Of $"u{i}" |]

    let private profile (id: DistinctId) (version: int) =
        { DistinctId = id
          Email = $"{id.Value}@example.com"
          FirstName = $"v{version}"
          LastName = null
          PhoneNumber = null
          Properties = $"{{\"version\":{version}}}" }

    let change: Gen<CohortChange> =
        gen {
            let! id = Gen.elements ids
            let! version = Gen.choose (1, 3)

            return!
                Gen.elements [ Joined(profile id version); Left id; ProfileChanged(profile id version) ]
        }

    let private fault: Gen<Fault> =
        Gen.frequency
            [ 12, Gen.constant NoFault
              2, Gen.constant LostBeforeReceiver
              2, Gen.constant LostAfterReceiver
              2, Gen.constant Duplicated
              2, Gen.constant Delayed
              2, Gen.elements [ ProxyAnswered 500; ProxyAnswered 502; ProxyAnswered 503; ProxyAnswered 429 ]
              1, Gen.constant ReceiverRestarted ]

    /// Faults one by one, with the occasional burst long enough to exhaust a call's retries.
    let private faults: Gen<Fault list> =
        let burst =
            gen {
                // Answers lost after the receiver handled the call are rarer: a burst of them on a
                // sync's last page is a commit Mixpanel never hears of.
                let! f =
                    Gen.frequency
                        [ 3, Gen.constant LostBeforeReceiver
                          3, Gen.constant (ProxyAnswered 503)
                          1, Gen.constant LostAfterReceiver
                          1, Gen.constant Delayed ]
                let! n = Gen.choose (4, 7)
                return List.replicate n f
            }

        gen {
            let! pieces = Gen.listOf (Gen.frequency [ 8, fault |> Gen.map List.singleton; 1, burst ])
            return List.concat pieces
        }

    /// Every call of the sync fails before the receiver: the sync fails with nothing delivered.
    let private outage =
        Gen.elements [ ProxyAnswered 503; LostBeforeReceiver ] |> Gen.map (List.replicate 6)

    let private tick: Gen<Tick> =
        gen {
            let! changes = Gen.listOf change
            let! faults = Gen.frequency [ 3, Gen.constant []; 6, faults; 2, outage ]
            return { Changes = changes; Faults = faults }
        }

    let history: Gen<History> =
        gen {
            let! initial = Gen.subListOf ids
            let! ticks = Gen.sized (fun size -> Gen.choose (1, max 1 (min 12 (size / 5 + 2)))) |> Gen.bind (fun n -> Gen.listOfLength n tick)

            return
                { Cohort = SourceCohort.Of(ProjectId.Of "7", CohortId.Of "42", "Power users", null, initial |> Seq.map (fun id -> profile id 0))
                  Ticks = ticks }
        }

    let private shrinkList (shrinkItem: 'T -> 'T seq) (items: 'T list) : 'T list seq =
        seq {
            for i in 0 .. items.Length - 1 do
                yield items |> List.removeAt i

            for i, item in List.indexed items do
                for smaller in shrinkItem item do
                    yield items |> List.updateAt i smaller
        }

    let private shrinkFault (f: Fault) =
        if f = NoFault then Seq.empty else Seq.singleton NoFault

    let private shrinkTick (t: Tick) =
        seq {
            for changes in shrinkList (fun _ -> Seq.empty) t.Changes -> { t with Changes = changes }
            for faults in shrinkList shrinkFault t.Faults -> { t with Faults = faults }
        }

    /// Fewer ticks, fewer changes, fewer or milder faults, fewer initial members.
    let shrink (h: History) : History seq =
        seq {
            for ticks in shrinkList shrinkTick h.Ticks do
                if not ticks.IsEmpty then
                    yield { h with Ticks = ticks }

            for id in h.Cohort.Members.Keys ->
                { h with Cohort = { h.Cohort with Members = h.Cohort.Members.Remove id } }
        }

/// Histories for the properties, with their shrinker.
type HistoryArbitraries =
    static member History() = Arb.fromGenShrink (Histories.history, Histories.shrink)
    static member CohortChange() = Arb.fromGen Histories.change

module HostChecks =

    /// Checks a claim on `maxTest` generated histories, for tests outside FsCheck.Xunit (the host's):
    /// throws with the counterexample and its seed on failure; honours COHORTSYNC_FSCHECK_REPLAY.
    [<CompiledName("CheckHistories")>]
    let checkHistories (maxTest: int) (claim: Action<History>) =
        let config =
            Config.QuickThrowOnFailure
                .WithArbitrary([ typeof<HistoryArbitraries> ])
                .WithMaxTest(maxTest)
                .WithQuietOnSuccess(true)
                .WithReplay(Replay.fromEnvironment () |> Option.map Replay.parse)

        Check.One(config, fun (h: History) -> claim.Invoke h)
