namespace CohortSync.Domain

/// One thing wrong with a request, at a JSON path such as `parameters.page_info.page_count`.
[<Struct>]
type Problem =
    { Path: string
      Message: string }

    override this.ToString() = $"{this.Path}: {this.Message}"

/// A value, or every problem found while building it (not only the first).
type Validation<'T> = Result<'T, Problem list>

/// Applicative validation: independent parts are all checked, and their problems accumulate.
module internal Validation =

    let fail path message : Validation<'T> = Error [ { Path = path; Message = message } ]

    let map2 f (a: Validation<'A>) (b: Validation<'B>) : Validation<'C> =
        match a, b with
        | Ok x, Ok y -> Ok(f x y)
        | Error e1, Error e2 -> Error(e1 @ e2)
        | Error e, Ok _
        | Ok _, Error e -> Error e

    /// Validates every element; the problems of all elements are reported together.
    let traverseIndexed (f: int -> 'A -> Validation<'B>) (items: 'A array) : Validation<'B array> =
        let results = Array.zeroCreate items.Length
        let problems = ResizeArray()

        for i in 0 .. items.Length - 1 do
            match f i items[i] with
            | Ok v -> results[i] <- v
            | Error ps -> problems.AddRange ps

        if problems.Count = 0 then Ok results else Error(List.ofSeq problems)

/// `validation { let! a = .. and! b = .. }` runs both checks and keeps both sets of problems.
type internal ValidationBuilder() =
    member _.Return(x) : Validation<'T> = Ok x
    member _.ReturnFrom(x: Validation<'T>) = x
    member _.Bind(x: Validation<'T>, f: 'T -> Validation<'U>) = Result.bind f x
    member _.BindReturn(x: Validation<'T>, f: 'T -> 'U) = Result.map f x
    member _.MergeSources(a: Validation<'A>, b: Validation<'B>) = Validation.map2 (fun x y -> x, y) a b

[<AutoOpen>]
module internal ValidationBuilderInstance =
    let validation = ValidationBuilder()
