using System.ComponentModel;
using System.Text.Json;
using CohortSync.Host.Api;
using CohortSync.Host.Feed;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CohortSync.Host.Destinations;

/// <summary>
/// <c>/v1/destinations</c>: HTTP endpoints that are sent the change feed of one project, signed. A key reaches
/// the destinations of its projects only; another project's destination is answered 404, like a missing one.
/// </summary>
public static class DestinationEndpoints
{
    const string IdText = "The destination's id, as its creation answered.";

    public static RouteGroupBuilder MapDestinations(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/destinations");
        group.MapPost("", CreateAsync).WithName("CreateDestination")
            .WithSummary("Create a destination")
            .WithDescription("Creates an HTTP endpoint that is sent, from now on, the changes of a project's cohorts in signed batches (Standard Webhooks). The answer holds the signing secret: it is shown this once.")
            .Accepts<DestinationBody>("application/json");
        group.MapGet("", ListAsync).WithName("ListDestinations")
            .WithSummary("List destinations")
            .WithDescription("Every destination of the projects this API key reaches, oldest first. Secrets are never shown.");
        group.MapGet("/{id}", GetAsync).WithName("GetDestination")
            .WithSummary("Read a destination")
            .WithDescription("The destination's settings and state (active, failing or gone).");
        group.MapPatch("/{id}", UpdateAsync).WithName("UpdateDestination")
            .WithSummary("Change a destination")
            .WithDescription("Changes the fields given and keeps the others; the project cannot change. Enabling a failing or gone destination resumes delivery at once.")
            .Accepts<DestinationBody>("application/json");
        group.MapPost("/{id}/disable", DisableAsync).WithName("DisableDestination")
            .WithSummary("Disable a destination")
            .WithDescription("Stops delivery; changes keep being recorded and are sent once the destination is enabled again.");
        group.MapPost("/{id}/enable", EnableAsync).WithName("EnableDestination")
            .WithSummary("Enable a destination")
            .WithDescription("Resumes delivery, also of a destination that failed or answered 410: the waiting batch is tried at once and its retry schedule starts again.");
        group.MapDelete("/{id}", DeleteAsync).WithName("DeleteDestination")
            .WithSummary("Delete a destination")
            .WithDescription("Deletes the destination with its batches, their attempts and its ledger of users targeted.");
        group.MapPost("/{id}/rotate-secret", RotateAsync).WithName("RotateDestinationSecret")
            .WithSummary("Rotate a destination's signing secret")
            .WithDescription("Makes a new signing secret, shown this once. For the grace period (Destinations:RotationGraceHours) the previous secret signs too, so webhook-signature holds two space-separated v1 signatures.");
        group.MapPost("/{id}/replay", ReplayAsync).WithName("ReplayDestination")
            .WithSummary("Replay the feed to a destination")
            .WithDescription("Sends again, in new batches marked replay, every matching change just after the given feed cursor up to where delivery has got to. A replay bypasses the targeted-once ledger: it is the operator's explicit resend.")
            .Accepts<ReplayBody>("application/json");
        return v1;
    }

    static NotFound<ProblemBody> Missing(string id) => TypedResults.NotFound(new ProblemBody($"no destination {id}"));

    static async Task<Results<Created<CreatedDestination>, BadRequest<ProblemBody>, JsonHttpResult<ProblemBody>>> CreateAsync(
        HttpRequest request, DestinationStore store, ApiCaller caller, CancellationToken ct)
    {
        var (settings, problem) = DestinationSettingsReader.Read(await ReadTextAsync(request, ct), null);
        if (settings is null)
            return TypedResults.BadRequest(new ProblemBody(problem!));
        if (!caller.Scope.Includes(settings.ProjectId))
            return TypedResults.Json(new ProblemBody($"this API key does not reach project {settings.ProjectId}"), statusCode: StatusCodes.Status403Forbidden);
        var created = await store.CreateAsync(settings, ct);
        return TypedResults.Created($"/v1/destinations/{created.Destination.Id}", created);
    }

    static async Task<Ok<DestinationList>> ListAsync(
        [Description("Only the destinations of this Mixpanel project.")] string? projectId,
        DestinationStore store, ApiCaller caller, CancellationToken ct) =>
        TypedResults.Ok(new DestinationList(await store.ListAsync(caller.Scope.Projects, projectId, ct)));

    static async Task<Results<Ok<DestinationView>, NotFound<ProblemBody>>> GetAsync(
        [Description(IdText)] string id, DestinationStore store, ApiCaller caller, CancellationToken ct) =>
        Guid.TryParse(id, out var key) && await store.GetAsync(key, caller.Scope.Projects, ct) is { } row
            ? TypedResults.Ok(store.View(row))
            : Missing(id);

    static async Task<Results<Ok<DestinationView>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> UpdateAsync(
        [Description(IdText)] string id, HttpRequest request, DestinationStore store, ApiCaller caller, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var key) || await store.GetAsync(key, caller.Scope.Projects, ct) is not { } row)
            return Missing(id);
        var (settings, problem) = DestinationSettingsReader.Read(await ReadTextAsync(request, ct), row.Settings());
        if (settings is null)
            return TypedResults.BadRequest(new ProblemBody(problem!));
        return await store.UpdateAsync(key, caller.Scope.Projects, settings, ct) is { } view ? TypedResults.Ok(view) : Missing(id);
    }

    static Task<Results<Ok<DestinationView>, NotFound<ProblemBody>>> DisableAsync(
        [Description(IdText)] string id, DestinationStore store, ApiCaller caller, CancellationToken ct) =>
        SetEnabledAsync(id, false, store, caller, ct);

    static Task<Results<Ok<DestinationView>, NotFound<ProblemBody>>> EnableAsync(
        [Description(IdText)] string id, DestinationStore store, ApiCaller caller, CancellationToken ct) =>
        SetEnabledAsync(id, true, store, caller, ct);

    static async Task<Results<Ok<DestinationView>, NotFound<ProblemBody>>> SetEnabledAsync(
        string id, bool enabled, DestinationStore store, ApiCaller caller, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var key) || await store.GetAsync(key, caller.Scope.Projects, ct) is not { } row)
            return Missing(id);
        return await store.UpdateAsync(key, caller.Scope.Projects, row.Settings() with { Enabled = enabled }, ct) is { } view
            ? TypedResults.Ok(view)
            : Missing(id);
    }

    static async Task<Results<NoContent, NotFound<ProblemBody>>> DeleteAsync(
        [Description(IdText)] string id, DestinationStore store, ApiCaller caller, CancellationToken ct) =>
        Guid.TryParse(id, out var key) && await store.DeleteAsync(key, caller.Scope.Projects, ct) ? TypedResults.NoContent() : Missing(id);

    static async Task<Results<Ok<RotatedSecret>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> RotateAsync(
        [Description(IdText)] string id, DestinationStore store, ApiCaller caller, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var key) || await store.GetAsync(key, caller.Scope.Projects, ct) is not { } row)
            return Missing(id);
        if (row.kind != DestinationKind.Webhook)
            return TypedResults.BadRequest(new ProblemBody("a mixpanel destination has no signing secret: change its credentials with PATCH"));
        return await store.RotateSecretAsync(key, caller.Scope.Projects, ct) is { } rotated ? TypedResults.Ok(rotated) : Missing(id);
    }

    static async Task<Results<Accepted<ReplayView>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> ReplayAsync(
        [Description(IdText)] string id, HttpRequest request, DestinationStore store, ApiCaller caller, CancellationToken ct)
    {
        ReplayBody? body;
        try
        {
            body = JsonSerializer.Deserialize<ReplayBody>(await ReadTextAsync(request, ct), JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body?.From is not { } text)
            return TypedResults.BadRequest(new ProblemBody("the body must be JSON {\"from\": \"<a feed cursor>\"}"));
        if (!FeedCursor.TryDecode(text, out var from))
            return Paging.BadCursor("from");
        return Guid.TryParse(id, out var key) && await store.ReplayAsync(key, caller.Scope.Projects, from, ct) is { } replay
            ? TypedResults.Accepted($"/v1/destinations/{id}/deliveries", replay)
            : Missing(id);
    }

    static async Task<string> ReadTextAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        return await reader.ReadToEndAsync(ct);
    }
}
