using System.ComponentModel;
using System.Text.Json;
using System.Text.RegularExpressions;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.Feed;

/// <summary>The body of <c>PUT /v1/consumers/{name}/cursor</c>: a cursor from <c>/v1/events</c> (null is refused).</summary>
public sealed record ConsumerCursorBody(string Cursor);

/// <summary>
/// Named feed consumers: a worker stores the cursor of the last event it has acted on, and a restarted
/// worker reads it back to resume there.
/// </summary>
public static partial class ConsumerEndpoints
{
    public const string NameRule = "a consumer name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    const string NameText = "The consumer's name (" + NameRule + ").";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex ValidName();

    public static RouteGroupBuilder MapConsumers(this RouteGroupBuilder v1)
    {
        v1.MapGet("/consumers/{name}/cursor", GetAsync).WithName("GetConsumerCursor")
            .WithSummary("Read a consumer's cursor")
            .WithDescription("The feed cursor the consumer last stored under this API key, so that a restarted worker resumes the change feed there. 404 when it has stored none yet.");
        v1.MapPut("/consumers/{name}/cursor", PutAsync).WithName("PutConsumerCursor")
            .WithSummary("Store a consumer's cursor")
            .WithDescription("Stores the cursor of the last change feed event the consumer has acted on, under this API key. The cursor must be one the feed issued.")
            .Accepts<ConsumerCursorBody>("application/json");
        return v1;
    }

    static BadRequest<ProblemBody>? CheckName(string name) =>
        ValidName().IsMatch(name) ? null : TypedResults.BadRequest(new ProblemBody(NameRule));

    static async Task<Results<Ok<ConsumerView>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> GetAsync(
        [Description(NameText)] string name, ConsumerStore store, ApiCaller caller, CancellationToken ct)
    {
        if (CheckName(name) is { } badName)
            return badName;
        var consumer = await store.GetAsync(caller.Scope.Name, name, ct);
        return consumer is null
            ? TypedResults.NotFound(new ProblemBody($"no consumer {name}: it has stored no cursor yet"))
            : TypedResults.Ok(consumer);
    }

    // The body is read here rather than bound, so that a malformed one gets a 400 that says why.
    static async Task<Results<Ok<ConsumerView>, BadRequest<ProblemBody>>> PutAsync(
        [Description(NameText)] string name, HttpRequest request, ConsumerStore store, ApiCaller caller, CancellationToken ct)
    {
        if (CheckName(name) is { } badName)
            return badName;

        ConsumerCursorBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<ConsumerCursorBody>(request.Body, JsonSerializerOptions.Web, ct);
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body?.Cursor is not { } text)
            return TypedResults.BadRequest(new ProblemBody("the body must be JSON {\"cursor\": \"<a cursor from /v1/events>\"}"));
        if (!FeedCursor.TryDecode(text, out var cursor))
            return Paging.BadCursor("cursor");

        return TypedResults.Ok(await store.PutAsync(caller.Scope.Name, name, cursor, ct));
    }
}
