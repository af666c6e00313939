namespace CohortSync.Domain.Tracking

open System
open System.Security.Cryptography
open System.Text
open CohortSync.Domain.Targeting

// ==== $insert_id ====================================================================================

module InsertId =

    [<Literal>]
    let MaxLength = 36

    [<CompiledName("IsValid")>]
    let isValid (insertId: string) =
        insertId.Length >= 1
        && insertId.Length <= MaxLength
        && insertId |> Seq.forall (fun c -> Char.IsAsciiLetterOrDigit c || c = '-')

    // Each part is length-prefixed, so that no two different lists of parts hash the same text.
    let private hash (parts: string list) =
        let text = parts |> List.map (fun p -> $"{p.Length}:{p}") |> String.concat "|"
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes text), 0, 16)

    [<CompiledName("ForChange")>]
    let forChange (destinationId: Guid, position: FeedPosition) =
        hash [ "change"; destinationId.ToString "N"; string position.CommitPosition; position.DistinctId ]

    [<CompiledName("ForReport")>]
    let forReport (projectId: string, reportId: string) = hash [ "report"; projectId; reportId ]

// ==== Throttling ====================================================================================

module ImportBackoff =

    let First = TimeSpan.FromSeconds 2.
    let Longest = TimeSpan.FromSeconds 60.
    let LongestRetryAfter = TimeSpan.FromMinutes 10.

    [<CompiledName("Next")>]
    let next (attempt: int, jitter: float, retryAfter: TimeSpan) =
        let doublings = min (max attempt 1 - 1) 5
        let scheduled = min (First * float (1 <<< doublings)) Longest
        let wait = scheduled + TimeSpan.FromSeconds(1. + 4. * max 0. (min jitter 0.999999))
        if retryAfter > wait then min retryAfter LongestRetryAfter else wait
