/// Replaying a failing property: FsCheck prints "(seed,gamma)"; COHORTSYNC_FSCHECK_REPLAY pins it.
module CohortSync.Domain.Tests.Replay

open System
open FsCheck

/// COHORTSYNC_FSCHECK_REPLAY="seed,gamma", as a failing property prints it.
let fromEnvironment () : string option =
    match Environment.GetEnvironmentVariable "COHORTSYNC_FSCHECK_REPLAY" with
    | null
    | "" -> None
    | replay -> Some replay

/// "seed,gamma" (with or without parentheses) as FsCheck's Replay.
let parse (replay: string) : Replay =
    match replay.Trim([| '('; ')'; ' ' |]).Split ',' with
    | [| seed; gamma |] ->
        { Rnd = Rnd(UInt64.Parse(seed.Trim()), UInt64.Parse(gamma.Trim()))
          Size = None }
    | _ -> failwithf "COHORTSYNC_FSCHECK_REPLAY: expected \"seed,gamma\", got %s" replay
