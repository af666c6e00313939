/// Reading and writing webhook bodies: what is written reads back the same, and a broken body is
/// refused with every problem at its JSON path.
module CohortSync.Domain.Tests.WebhookJsonProperties

open System
open System.Text
open System.Text.Json.Nodes
open CohortSync.Domain
open CohortSync.Mixpanel
open CohortSync.Domain.Tests.Delivery
open FsCheck
open FsCheck.FSharp
open global.Xunit

let private parse (body: byte array) = WebhookJson.parse (ReadOnlyMemory body)

let private parseText (body: string) = parse (Encoding.UTF8.GetBytes body)

let private problemsOf (result: Validation<WebhookPage>) =
    match result with
    | Ok page -> failwithf "expected problems, the body was read as %A" page
    | Error problems -> problems

let private renderedNode (page: WebhookPage) =
    (JsonNode.Parse(ReadOnlySpan(PageBody.render page))).AsObject()

let private bytesOf (node: JsonNode) = Encoding.UTF8.GetBytes(node.ToJsonString())

// ==== Round trip ===================================================================================

[<DomainProperty>]
let ``parse then render round-trips`` (page: WebhookPage) =
    let rendered = PageBody.render page

    match parse rendered with
    | Error problems -> failwithf "a rendered page was refused: %A" problems
    | Ok parsed ->
        expectEqual "parsed page" page parsed
        expectEqual "bytes rendered again" rendered (PageBody.render parsed)

[<DomainProperty>]
let ``ids sent as JSON numbers are kept as their text``
    (page: WebhookPage)
    (JsonNumberText project)
    (JsonNumberText cohort)
    (JsonNumberText session)
    (JsonNumberText user)
    =
    let root = renderedNode page
    let parameters = root["parameters"]
    // A number node parsed from text writes that text back verbatim, exponent and all.
    let number (text: string) = JsonNode.Parse text
    parameters["mixpanel_project_id"] <- number project
    parameters["mixpanel_cohort_id"] <- number cohort
    parameters["mixpanel_session_id"] <- number session

    for m in parameters["members"].AsArray() do
        m["mixpanel_distinct_id"] <- number user

    match parse (bytesOf root) with
    | Error problems -> failwithf "numeric ids were refused: %A" problems
    | Ok parsed ->
        expectEqual "project id" project parsed.ProjectId.Value
        expectEqual "cohort id" cohort parsed.CohortId.Value
        expectEqual "session id" session parsed.SessionId.Value

        for m in parsed.Members do
            expectEqual "distinct id" user m.DistinctId.Value

// ==== Invalid bodies ===============================================================================

/// One thing broken in a valid body, and the path its problem must name.
type Corruption =
    { Name: string
      Path: string
      Apply: JsonObject -> unit }

let private corruption name path apply = { Name = name; Path = path; Apply = apply }

let private parametersOf (root: JsonObject) = root["parameters"].AsObject()

let private membersOf (root: JsonObject) =
    let parameters = parametersOf root
    parameters["members"].AsArray()

// A node has one parent: a copy lets a corruption be applied to more than one body.
let private setField (name: string) (value: JsonNode) (o: JsonObject) = o[name] <- value.DeepClone()

let private remove (name: string) (o: JsonObject) = o.Remove name |> ignore

let private node (json: string) = JsonNode.Parse json

let private inParameters name path (change: JsonObject -> unit) = corruption name path (parametersOf >> change)

/// Each slot of a body can be broken one way at a time; problems in different slots all show.
let private slots (page: WebhookPage) : Gen<Corruption list> list =
    let total = page.PageInfo.TotalPages
    let pageInfo change = parametersOf >> fun p -> change (p["page_info"].AsObject())
    let pageCount = "parameters.page_info.page_count"
    let totalPages = "parameters.page_info.total_pages"

    let one (choices: Corruption list) = Gen.elements choices |> Gen.map List.singleton

    let idSlot field =
        let path = $"parameters.{field}"

        one
            [ inParameters $"{field} missing" path (remove field)
              inParameters $"{field} blank" path (setField field (JsonValue.Create "  "))
              inParameters $"{field} an object" path (setField field (node "{}"))
              inParameters $"{field} too long" path (setField field (JsonValue.Create(String('9', 256)))) ]

    let memberAt (i: int) =
        let path field = $"parameters.members[{i}]{field}"
        let distinctId = "mixpanel_distinct_id"

        let memberObject (root: JsonObject) =
            let members = membersOf root
            members[i].AsObject()

        let change field value = memberObject >> setField field value

        Gen.elements
            [ corruption $"member {i} without distinct id" (path $".{distinctId}") (memberObject >> remove distinctId)
              corruption $"member {i} distinct id blank" (path $".{distinctId}") (change distinctId (JsonValue.Create ""))
              corruption $"member {i} distinct id a 1025-digit number" (path $".{distinctId}") (change distinctId (node (String('1', 1025))))
              corruption $"member {i} email an object" (path ".email") (change "email" (node """{"a":1}"""))
              corruption $"member {i} first_name an array" (path ".first_name") (change "first_name" (node "[]"))
              corruption $"member {i} last_name a boolean" (path ".last_name") (change "last_name" (node "true"))
              corruption $"member {i} phone_number an object" (path ".phone_number") (change "phone_number" (node "{}"))
              corruption $"member {i} a number" (path "") (fun root -> (membersOf root)[i] <- JsonValue.Create 7) ]

    let members =
        let wholeList =
            one
                [ inParameters "members an object" "parameters.members" (setField "members" (node "{}"))
                  inParameters "members a string" "parameters.members" (setField "members" (JsonValue.Create "u1")) ]

        if page.Members.Length = 0 then
            wholeList
        else
            let someMembers =
                Gen.subListOf [ 0 .. page.Members.Length - 1 ]
                |> Gen.where (List.isEmpty >> not)
                |> Gen.bind (Gen.collectToList memberAt)

            Gen.frequency [ 1, wholeList; 3, someMembers ]

    [ one
          [ corruption "action unknown" "action" (setField "action" (JsonValue.Create "delete_members"))
            corruption "action missing" "action" (remove "action")
            corruption "action a number" "action" (setField "action" (node "1")) ]
      idSlot "mixpanel_project_id"
      idSlot "mixpanel_cohort_id"
      idSlot "mixpanel_session_id"
      one [ inParameters "cohort name an object" "parameters.mixpanel_cohort_name" (setField "mixpanel_cohort_name" (node "{}")) ]
      one
          [ inParameters
                "cohort description an array"
                "parameters.mixpanel_cohort_description"
                (setField "mixpanel_cohort_description" (node "[1]")) ]
      one
          [ corruption "page_count 0" pageCount (pageInfo (setField "page_count" (JsonValue.Create 0)))
            corruption "page_count past total_pages" pageCount (pageInfo (setField "page_count" (node $"{total + 1}")))
            corruption "page_count a fraction" pageCount (pageInfo (setField "page_count" (node "1.5")))
            corruption "page_count not a number" pageCount (pageInfo (setField "page_count" (JsonValue.Create "three")))
            corruption "total_pages negative" totalPages (pageInfo (setField "total_pages" (JsonValue.Create -1)))
            corruption "total_pages missing" totalPages (pageInfo (remove "total_pages"))
            corruption "total_pages past its bound" totalPages (pageInfo (setField "total_pages" (node $"{PageInfo.MaxTotalPages + 1}")))
            inParameters "page_info a string" "parameters.page_info" (setField "page_info" (JsonValue.Create "1/1"))
            inParameters "page_info missing" "parameters.page_info" (remove "page_info") ]
      members ]

/// A valid page and one or more corruptions of its body, in different slots.
type CorruptedBody =
    { Page: WebhookPage
      Corruptions: Corruption list }

type CorruptedBodies =
    static member CorruptedBody() =
        gen {
            let! page = Generate.webhookPage
            let! chosen = Gen.subListOf (slots page) |> Gen.where (List.isEmpty >> not)
            let! corruptions = Gen.sequenceToList chosen
            return { Page = page; Corruptions = List.concat corruptions }
        }
        |> Arb.fromGen

[<DomainProperty(Arbitrary = [| typeof<CorruptedBodies>; typeof<Arbitraries> |])>]
let ``invalid bodies are rejected with their paths`` (body: CorruptedBody) =
    let root = renderedNode body.Page

    for c in body.Corruptions do
        c.Apply root

    let problems = parse (bytesOf root) |> problemsOf
    let expected = body.Corruptions |> List.map _.Path |> List.sort
    expectEqual "the paths of the problems, one for each corruption" expected (problems |> List.map _.Path |> List.sort)

    for p in problems do
        expectTrue $"a problem without a message at {p.Path}" (not (String.IsNullOrWhiteSpace p.Message))

// ==== Examples =====================================================================================

let private example =
    { Action = Members
      ProjectId = ProjectId.Of "2735817"
      CohortId = CohortId.Of "42"
      CohortName = "Power users"
      CohortDescription = null
      SessionId = SessionId.Of "sync-1"
      PageInfo = { TotalPages = 3; PageCount = 1 }
      Members = [||] }

[<Fact>]
let ``a body that is not JSON is refused at the root`` () =
    let problems = parseText "members, please" |> problemsOf
    expectEqual "paths" [ "$" ] (problems |> List.map _.Path)

[<Fact>]
let ``a JSON array is refused at the root`` () =
    let problems = parseText "[]" |> problemsOf
    expectEqual "problems" [ "$: must be a JSON object" ] (problems |> List.map string)

[<Fact>]
let ``page_count 4 of 3 gives the documented message`` () =
    let body = PageBody.render { example with PageInfo = { TotalPages = 3; PageCount = 4 } }
    let problems = parse body |> problemsOf
    let expected = "parameters.page_info.page_count: must be between 1 and total_pages (3)"
    expectEqual "problems" [ expected ] (problems |> List.map string)

[<Fact>]
let ``a body without parameters reports them and a bad action together`` () =
    let problems = parseText """{"action":"sync"}""" |> problemsOf

    expectEqual
        "problems"
        [ "action: must be one of members, add_members, remove_members"; "parameters: is required" ]
        (problems |> List.map string)

[<Fact>]
let ``a numeric project id of Mixpanel's size reads as its digits`` () =
    let root = renderedNode example
    root["parameters"]["mixpanel_project_id"] <- JsonValue.Create 123

    match parse (bytesOf root) with
    | Ok page -> expectEqual "project id" "123" page.ProjectId.Value
    | Error problems -> failwithf "refused: %A" problems

[<Fact>]
let ``text that is not text is a problem at its path, not a fault`` () =
    // A lone surrogate escape is valid JSON but not a string: reading it must not throw.
    let body =
        """{"action":"members","parameters":{"mixpanel_project_id":"1","mixpanel_cohort_id":"2","mixpanel_session_id":"s","page_info":{"total_pages":1,"page_count":1},"members":[{"mixpanel_distinct_id":"\uD800","email":"\uDC00","x":"\uD800"}]}}"""

    let problems = parseText body |> problemsOf

    expectEqual
        "paths"
        [ "parameters.members[0]"; "parameters.members[0].email"; "parameters.members[0].mixpanel_distinct_id" ]
        (problems |> List.map _.Path |> List.sort)

    expectEqual "action of an unreadable action" None (WebhookJson.tryReadAction (ReadOnlyMemory(Encoding.UTF8.GetBytes """{"action":"\uD800"}""")))

[<Fact>]
let ``a property name that is not text is a problem of its member, not a fault`` () =
    // The member is otherwise valid: the one-pass reader must hand it to the full reader, not throw.
    let body =
        """{"action":"members","parameters":{"mixpanel_project_id":"1","mixpanel_cohort_id":"2","mixpanel_session_id":"s","page_info":{"total_pages":1,"page_count":1},"members":[{"mixpanel_distinct_id":"u1"},{"mixpanel_distinct_id":"u2","x\uD800":1}]}}"""

    let problems = parseText body |> problemsOf
    expectEqual "paths" [ "parameters.members[1]" ] (problems |> List.map _.Path)

[<Fact>]
let ``a body with a UTF-8 byte-order mark is read`` () =
    let body = Array.append [| 0xEFuy; 0xBBuy; 0xBFuy |] (PageBody.render example)

    match parse body with
    | Ok page -> expectEqual "page" example page
    | Error problems -> failwithf "refused: %A" problems

[<Fact>]
let ``an empty call saying total_pages 0 reads as page 1 of 1`` () =
    let root = renderedNode { example with Action = AddMembers }
    let pageInfo = root["parameters"]["page_info"]
    pageInfo["total_pages"] <- JsonValue.Create 0
    pageInfo["page_count"] <- JsonValue.Create 0

    match parse (bytesOf root) with
    | Ok page -> expectEqual "page info" { TotalPages = 1; PageCount = 1 } page.PageInfo
    | Error problems -> failwithf "refused: %A" problems

[<Fact>]
let ``a members call without its list is refused, a diff call without one is empty`` () =
    let without action =
        let root = renderedNode { example with Action = action; PageInfo = { TotalPages = 1; PageCount = 1 } }
        root["parameters"].AsObject().Remove "members" |> ignore
        parse (bytesOf root)

    expectEqual "members" [ "parameters.members" ] (without Members |> problemsOf |> List.map _.Path)

    match without RemoveMembers with
    | Ok page -> expectEqual "members of an empty diff page" 0 page.Members.Length
    | Error problems -> failwithf "refused: %A" problems

[<Fact>]
let ``NUL is refused in ids and replaced in profile text`` () =
    let body =
        """{"action":"members","parameters":{"mixpanel_project_id":"1","mixpanel_cohort_id":"2","mixpanel_session_id":"s\u0000","page_info":{"total_pages":1,"page_count":1},"members":[{"mixpanel_distinct_id":"u","email":"a\u0000b","k\u0000":{"v":["x\u0000"]}}]}}"""

    expectEqual "paths" [ "parameters.mixpanel_session_id" ] (parseText body |> problemsOf |> List.map _.Path)

    match parseText (body.Replace("s\\u0000", "s")) with
    | Ok page ->
        let m = page.Members[0]
        expectEqual "email" "a\uFFFDb" m.Email
        expectEqual "properties" """{"k�":{"v":["x�"]}}""" m.Properties
    | Error problems -> failwithf "refused: %A" problems
