/// Tracking back to Mixpanel (`Tracking`): every `$insert_id` is one Mixpanel takes, the same for a resend and
/// different for another change; and throttling waits stay within Mixpanel's advice.
module CohortSync.Domain.Tests.TrackingProperties

open System
open CohortSync.Domain.Targeting
open CohortSync.Domain.Tracking
open FsCheck
open FsCheck.FSharp

let private (|@) (holds: bool) (label: string) = Prop.label label holds

// Distinct ids as Mixpanel sends them: any text, unicode, separators and all.
let private distinctId = Gen.elements [ ""; "a"; "user-1"; "ü@example.com"; "a|b"; "1:2"; "12"; "1"; "2:1"; String('x', 300) ]

let private change =
    gen {
        let! destination = Gen.elements [ Guid.Empty; Guid("9f1c2a4e-0000-4000-8000-000000000001"); Guid("9f1c2a4e-0000-4000-8000-000000000002") ]
        let! commit = Gen.choose (-1, 4) |> Gen.map int64
        let! user = distinctId
        return destination, { CommitPosition = commit; DistinctId = user }
    }

[<DomainProperty>]
let ``a change's insert id is valid, the same every time, and differs for another destination or change`` () =
    Prop.forAll (Arb.fromGen (Gen.two change)) (fun ((d1, p1), (d2, p2)) ->
        let a = InsertId.forChange (d1, p1)
        (InsertId.isValid a |@ $"{a} is not a valid $insert_id")
        .&. (a = InsertId.forChange (d1, p1) |@ "derived twice, it differs")
        .&. ((a = InsertId.forChange (d2, p2)) = ((d1, p1) = (d2, p2)) |@ $"{(d1, p1)} and {(d2, p2)} share or split ids wrongly"))

[<DomainProperty>]
let ``a report's insert id is valid and the same for a repeated report id only`` () =
    Prop.forAll (Arb.fromGen (Gen.two (Gen.two distinctId))) (fun ((project1, id1), (project2, id2)) ->
        let a = InsertId.forReport (project1, id1)
        (InsertId.isValid a |@ $"{a} is not a valid $insert_id")
        .&. ((a = InsertId.forReport (project2, id2)) = ((project1, id1) = (project2, id2)) |@ "ids shared or split wrongly"))

[<DomainProperty>]
let ``throttled imports wait 2 s doubling to 60 s plus 1 to 5 s, or a longer Retry-After up to its cap`` () =
    let gen =
        gen {
            let! attempt = Gen.choose (1, 40)
            let! jitter = Gen.choose (0, 999) |> Gen.map (fun n -> float n / 1000.)
            let! retryAfter = Gen.oneof [ Gen.constant -1.; Gen.choose (0, 5000) |> Gen.map float ]
            return attempt, jitter, retryAfter
        }
    Prop.forAll (Arb.fromGen gen) (fun (attempt, jitter, retryAfterSeconds) ->
        let retryAfter = if retryAfterSeconds < 0. then TimeSpan.FromTicks -1L else TimeSpan.FromSeconds retryAfterSeconds
        let wait = ImportBackoff.next (attempt, jitter, retryAfter)
        let scheduled = min (2. * Math.Pow(2., float (attempt - 1))) 60.
        let backoff = wait.TotalSeconds >= scheduled + 1. && wait.TotalSeconds <= scheduled + 5.
        if retryAfter.TotalSeconds > scheduled + 5. then
            (wait = min retryAfter ImportBackoff.LongestRetryAfter) |@ $"attempt {attempt}: Retry-After {retryAfter}, waits {wait}"
        else
            (backoff || wait = retryAfter) |@ $"attempt {attempt}: scheduled {scheduled} s, waits {wait}")
