/// The alternative on trial: a receiver that applies each page as it arrives (what the public
/// receivers do). Played through the same histories as ours, it drifts from Mixpanel's snapshot;
/// the shrunk counterexample FsCheck found is kept below as a test.
module CohortSync.Domain.Tests.PageByPageReceiver

open System
open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Mixpanel.Sender
open CohortSync.Domain.Tests.Delivery
open CohortSync.Domain.Tests.VirtualMixpanel
open Xunit
open FsCheck
open FsCheck.FSharp

/// `members`: the first page replaces the membership, later pages add; `add_members` adds;
/// `remove_members` removes. Every page is answered 200 at once.
let pageByPage: ReceiverModel<Set<DistinctId>> =
    { Empty = Set.empty
      Receive =
        fun page membership ->
            let ids = page.Members |> Seq.map _.DistinctId |> Set.ofSeq

            let after =
                match page.Action with
                | Members when page.PageInfo.PageCount = 1 -> ids
                | Members
                | AddMembers -> Set.union membership ids
                | RemoveMembers -> Set.difference membership ids

            200, after
      Membership = id }

/// It commits nothing, so it has no commit Mixpanel could miss.
let private runPageByPage = run pageByPage (fun _ _ -> false)

/// Judged only where ours converges: a page answered after Mixpanel gave up on it moves any
/// receiver away from the snapshot (see ConvergenceProperties).
let private endsAtSnapshot (h: History) =
    if (runOurs h).Orphaned.IsEmpty then
        let run = runPageByPage h
        expectEqual "membership, against Mixpanel's last successful snapshot" (lastSuccessful run) run.Receiver

[<Fact>]
let ``FsCheck finds histories in which the page-by-page receiver drifts from Mixpanel's snapshot`` () =
    let config =
        Config.QuickThrowOnFailure
            .WithArbitrary([ typeof<HistoryArbitraries> ])
            .WithMaxTest(2000)
            .WithQuietOnSuccess(true)

    let failure = Record.Exception(fun () -> Check.One(config, endsAtSnapshot))
    Assert.NotNull failure
    Assert.Contains("Falsifiable", failure.Message)

let private user n =
    { DistinctId = DistinctId.Of $"u{n}"
      Email = $"u{n}@example.com"
      FirstName = "v0"
      LastName = null
      PhoneNumber = null
      Properties = "{\"version\":0}" }

let private cohortOf members =
    SourceCohort.Of(ProjectId.Of "7", CohortId.Of "42", "Power users", null, members)

/// A counterexample FsCheck shrank to (2,000 histories, pages of 2): every call of the first sync's
/// `members` page 1 of 2 is held up, so each copy reaches the receiver only after the sender's next
/// call; the sender never sees an answer and gives the sync up, Mixpanel's snapshot still empty.
let shrunk =
    { Cohort = cohortOf [ user 5; user 6; user 9 ]
      Ticks = [ { Changes = []; Faults = List.replicate 6 Delayed } ] }

[<Fact>]
let ``the shrunk counterexample: page by page, a failed sync's first page is taken as the cohort`` () =
    let theirs = runPageByPage shrunk
    let ours = runOurs shrunk
    Assert.Equal<SyncOutcome list>([ Failed ], theirs.Reports |> List.map _.Outcome)
    Assert.Equal<Set<DistinctId>>(Set.empty, lastSuccessful theirs)
    Assert.Equal<Set<DistinctId>>(set [ DistinctId.Of "u5"; DistinctId.Of "u6" ], theirs.Receiver)
    Assert.Empty ours.Orphaned
    Assert.Equal<Set<DistinctId>>(Set.empty, Receiver.membership (cohortKey shrunk) ours.Receiver)

/// The worked example of docs/protocol.md, where the drift outlives Mixpanel's next successful sync: u1 joins
/// and is added in sync 2, whose `remove_members` call then fails past its retries; u1 leaves
/// before sync 3, which diffs against sync 1's empty snapshot and so never mentions u1.
let protocolExample =
    { Cohort = cohortOf []
      Ticks =
        [ { Changes = []; Faults = [] }
          { Changes = [ Joined(user 1) ]
            Faults = NoFault :: List.replicate 6 LostBeforeReceiver }
          { Changes = [ Left(DistinctId.Of "u1") ]; Faults = [] } ] }

[<Fact>]
let ``the protocol's worked example: page by page, a failed sync's pages stay for ever`` () =
    let theirs = runPageByPage protocolExample
    let ours = runOurs protocolExample
    Assert.Equal<SyncOutcome list>([ Succeeded; Failed; Succeeded ], theirs.Reports |> List.map _.Outcome)
    Assert.Equal<Set<DistinctId>>(Set.empty, lastSuccessful theirs)
    Assert.Equal<Set<DistinctId>>(Set.singleton (DistinctId.Of "u1"), theirs.Receiver)
    Assert.Equal<Set<DistinctId>>(Set.empty, Receiver.membership (cohortKey protocolExample) ours.Receiver)
