/// A page's body as Mixpanel posts it: what the simulator and the tests send to the receiver.
module CohortSync.Mixpanel.PageBody

open System.Buffers
open System.Text.Encodings.Web
open System.Text.Json
open CohortSync.Domain

// Exported properties are written as they are: non-ASCII stays as it is rather than becoming \uXXXX.
let private writerOptions = JsonWriterOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

let private writeOptional (w: Utf8JsonWriter) (name: string) (value: string) =
    match value with
    | null -> ()
    | v -> w.WriteString(name, v)

let private writeMember (w: Utf8JsonWriter) (m: Member) =
    w.WriteStartObject()
    w.WriteString("mixpanel_distinct_id", m.DistinctId.Value)
    writeOptional w "email" m.Email
    writeOptional w "first_name" m.FirstName
    writeOptional w "last_name" m.LastName
    writeOptional w "phone_number" m.PhoneNumber

    if m.Properties <> "{}" then
        use extras = JsonDocument.Parse m.Properties

        for p in extras.RootElement.EnumerateObject() do
            w.WritePropertyName p.Name
            p.Value.WriteTo w

    w.WriteEndObject()

/// Writes a page as Mixpanel sends it into the caller's buffer (the simulator reuses pooled
/// buffers: a 1,000-member page is some 200 KB, written for every call).
[<CompiledName("RenderTo")>]
let renderTo (buffer: IBufferWriter<byte>) (page: WebhookPage) : unit =
    using (new Utf8JsonWriter(buffer, writerOptions)) (fun w ->
        w.WriteStartObject()
        w.WriteString("action", page.Action.WireName)
        w.WriteStartObject "parameters"
        w.WriteString("mixpanel_project_id", page.ProjectId.Value)
        w.WriteString("mixpanel_cohort_id", page.CohortId.Value)
        writeOptional w "mixpanel_cohort_name" page.CohortName
        writeOptional w "mixpanel_cohort_description" page.CohortDescription
        w.WriteString("mixpanel_session_id", page.SessionId.Value)
        w.WriteStartObject "page_info"
        w.WriteNumber("total_pages", page.PageInfo.TotalPages)
        w.WriteNumber("page_count", page.PageInfo.PageCount)
        w.WriteEndObject()
        w.WriteStartArray "members"

        for m in page.Members do
            writeMember w m

        w.WriteEndArray()
        w.WriteEndObject()
        w.WriteEndObject())

/// Writes a page as Mixpanel sends it.
[<CompiledName("Render")>]
let render (page: WebhookPage) : byte array =
    let buffer = ArrayBufferWriter<byte>(256 + 128 * page.Members.Length)
    renderTo buffer page
    buffer.WrittenSpan.ToArray()
