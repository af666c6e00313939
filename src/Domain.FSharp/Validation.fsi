namespace CohortSync.Domain

/// One thing wrong with a request, at a JSON path such as `parameters.page_info.page_count`.
[<Struct>]
type Problem =
    {
        /// Where the problem is: a JSON path into the body, or the name of the value checked.
        Path: string
        /// What is wrong, in a sentence a sender can act on.
        Message: string
    }

    /// `path: message`.
    override ToString: unit -> string

/// A value, or every problem found while building it (not only the first).
type Validation<'T> = Result<'T, Problem list>

/// Applicative validation: independent parts are all checked, and their problems accumulate.
module internal Validation =

    val fail: path: string -> message: string -> Validation<'T>

    val map2: f: ('A -> 'B -> 'C) -> a: Validation<'A> -> b: Validation<'B> -> Validation<'C>

    /// Validates every element; the problems of all elements are reported together.
    val traverseIndexed: f: (int -> 'A -> Validation<'B>) -> items: 'A array -> Validation<'B array>

/// `validation { let! a = .. and! b = .. }` runs both checks and keeps both sets of problems.
type internal ValidationBuilder =
    new: unit -> ValidationBuilder
    member Return: x: 'T -> Validation<'T>
    member ReturnFrom: x: Validation<'T> -> Validation<'T>
    member Bind: x: Validation<'T> * f: ('T -> Validation<'U>) -> Validation<'U>
    member BindReturn: x: Validation<'T> * f: ('T -> 'U) -> Validation<'U>
    member MergeSources: a: Validation<'A> * b: Validation<'B> -> Validation<'A * 'B>

[<AutoOpen>]
module internal ValidationBuilderInstance =
    val validation: ValidationBuilder
