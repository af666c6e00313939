using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Host.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Mixpanel's side of the contract: one POST per page, answered with <see cref="WebhookReply"/> and an
/// HTTP status equal to <c>error.code</c>. 2xx only once the page is durably stored; 400/401/403/404
/// (which pause Mixpanel's sync) only for what a retry cannot fix.
/// </summary>
public static class WebhookEndpoints
{
    const int MaxProblemsInMessage = 20;

    public static IEndpointRouteBuilder MapWebhook(this IEndpointRouteBuilder app, string path)
    {
        app.MapPost(path, ReceiveAsync).WithName("Webhook").DisableAntiforgery();
        return app;
    }

    static async Task<IResult> ReceiveAsync(
        HttpContext http, PageStore store, WebhookAuthenticator authenticator, RejectionLog rejections,
        IOptions<WebhookOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var logger = loggers.CreateLogger("CohortSync.Webhook");
        var settings = options.Value;

        IResult Refuse(Rejection r, string action)
        {
            rejections.Record(r with { Action = r.Action ?? (action.Length > 0 ? action : null) });
            logger.LogInformation(
                "Webhook {Action} {ProjectId}/{CohortId} session {SessionId}: refused {Reason} {Status} in {ElapsedMs:F1} ms",
                action, r.ProjectId, r.CohortId, r.SessionId, r.Reason, r.Status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (r.Status == StatusCodes.Status401Unauthorized)
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"CohortSync\", charset=\"UTF-8\"";
            if (r.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
                http.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString();
            return TypedResults.Json(WebhookReply.Failure(action, r.Message, r.Status), statusCode: r.Status);
        }

        var size = http.Request.ContentLength;
        var caller = authenticator.Authenticate(http.Request.Headers.Authorization);
        if (caller is null)
            return Refuse(new Rejection(401, "unauthorized", "missing or wrong Basic credentials", size), "");

        var body = await RequestBody.ReadAsync(http.Request, settings.MaxBodyBytes, ct);
        if (body is not { } bytes)
            return Refuse(new Rejection(413, "too_large", $"body is larger than {settings.MaxBodyBytes} bytes", size), "");

        if (!WebhookBody.TryParse(bytes, out var page, out var problems))
        {
            var shown = problems.Take(MaxProblemsInMessage).Select(p => p.ToString());
            var more = problems.Length > MaxProblemsInMessage ? $"; and {problems.Length - MaxProblemsInMessage} more" : "";
            return Refuse(
                new Rejection(400, "invalid_body", string.Join("; ", shown) + more, bytes.Length),
                WebhookBody.TryReadAction(bytes) ?? "");
        }

        var action = page.Action.WireName;
        var about = new Rejection(0, "", "", bytes.Length, action, page.ProjectId.Value, page.CohortId.Value, page.SessionId.Value);
        if (!caller.MaySync(page.ProjectId.Value))
            return Refuse(
                about with { Status = 403, Reason = "forbidden_project", Message = $"these credentials may not sync project {page.ProjectId}" },
                action);

        SessionAssembly.PageDecision decision;
        try
        {
            decision = await store.ReceiveAsync(page, ct);
        }
        catch (Exception e) when (IsTransient(e))
        {
            logger.LogWarning("Database unavailable: {Error}", e.Message);
            return Refuse(about with { Status = 503, Reason = "unavailable", Message = "storage is unavailable; retry later" }, action);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A 5xx makes Mixpanel retry, never pause; the details stay in our log.
            logger.LogError(e, "Page could not be stored");
            return Refuse(about with { Status = 500, Reason = "internal_error", Message = "the page could not be stored; retry later" }, action);
        }

        if (decision.Outcome is SessionAssembly.PageOutcome.ActionConflict conflict)
            return Refuse(about with { Status = 409, Reason = "action_conflict", Message = conflict.Message }, action);

        logger.LogInformation(
            "Webhook {Action} {ProjectId}/{CohortId} session {SessionId} page {PageCount}/{TotalPages} with {MemberCount} members: {Outcome} 200 in {ElapsedMs:F1} ms",
            action, page.ProjectId.Value, page.CohortId.Value, page.SessionId.Value, page.PageInfo.PageCount,
            page.PageInfo.TotalPages, page.Members.Length, decision.Outcome.ToString(), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return TypedResults.Json(WebhookReply.Success(action), statusCode: StatusCodes.Status200OK);
    }

    /// <summary>Faults a retry can get past: the server unreachable, overloaded, restarting, or a lost race.</summary>
    internal static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState[..2] is "08" or "53" or "57" or "40",
        NpgsqlException => true,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };
}
