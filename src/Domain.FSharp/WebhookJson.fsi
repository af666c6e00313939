namespace CohortSync.Domain

open System
open System.Diagnostics.CodeAnalysis
open System.Runtime.InteropServices

/// Reads a webhook body into a `WebhookPage`, reporting every problem with its JSON path (F#'s
/// functions; C# calls `WebhookBody`).
module WebhookJson =

    /// Reads a request body (UTF-8 JSON, with or without a byte-order mark): the page, or every
    /// problem found, each with its JSON path.
    val parse: body: ReadOnlyMemory<byte> -> Validation<WebhookPage>

    /// The `action` of a body as sent, read from as much of the body as is at hand (a prefix is
    /// enough when, as in Mixpanel's bodies, `action` comes before `parameters`); `None` when it
    /// cannot be read.
    val tryReadAction: body: ReadOnlyMemory<byte> -> string option

/// Reads a webhook body, for C#: `if (!WebhookBody.TryParse(body, out var page, out var problems)) ...`.
[<AbstractClass; Sealed>]
type WebhookBody =
    /// Reads a request body (UTF-8 JSON, with or without a byte-order mark): true with the page, or
    /// false with every problem found, each with its JSON path.
    static member TryParse:
        body: ReadOnlyMemory<byte> * [<Out; MaybeNullWhen(false)>] page: byref<WebhookPage> * [<Out>] problems: byref<Problem array> ->
            bool

    /// The `action` of a body as sent, read from as much of the body as is at hand (a prefix is
    /// enough when `action` comes before `parameters`); null when it cannot be read. A refused body
    /// can still be answered with its action.
    static member TryReadAction: body: ReadOnlyMemory<byte> -> string | null
