using System.Diagnostics;
using CohortSync.Domain;
using CohortSync.Host.Database;
using CohortSync.Host.Observability;
using CohortSync.Host.OpenApi;
using CohortSync.Host.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Webhook;

/// <summary>
/// Mixpanel's side of the contract: one POST per page, answered with <see cref="WebhookReply"/> and an
/// HTTP status equal to <c>error.code</c>. 2xx only once the page is durably stored; 400/401/403/404
/// (which pause Mixpanel's sync) only for what a retry cannot fix.
/// </summary>
public static class WebhookEndpoints
{
    const int MaxProblemsInMessage = 20;

    const string LogLine =
        "Webhook {Action} {ProjectId}/{CohortId} session {SessionId} page {PageCount}/{TotalPages}: {Outcome} {Status} in {ElapsedMs:F1} ms";

    public const string EndpointName = "Webhook";

    public static IEndpointRouteBuilder MapWebhook(this IEndpointRouteBuilder app, string path)
    {
        app.MapPost(path, ReceiveAsync).WithName(EndpointName).DisableAntiforgery().DescribeWebhook()
            .AddEndpointFilter(async (context, next) =>
            {
                using var page = context.HttpContext.RequestServices.GetRequiredService<PageTraffic>().Enter();
                return await next(context);
            });
        return app;
    }

    /// <summary>
    /// A refusal made before the endpoint runs (too many failed authentications), in the reply Mixpanel
    /// expects: the action echoed, and the status in <c>error.code</c>. Not recorded as a rejection, so
    /// that a flood of guesses does not fill the table.
    /// </summary>
    public static async Task RefuseEarlyAsync(HttpContext http, string message, CancellationToken ct)
    {
        var prefix = await RequestBody.PrefixAsync(http.Request, ct);
        var action = WebhookBody.TryReadAction(prefix) ?? "";
        await http.Response.WriteAsJsonAsync(WebhookReply.Failure(action, message, http.Response.StatusCode), ct);
    }

    static async Task<JsonHttpResult<WebhookReply>> ReceiveAsync(
        HttpContext http, PageStore store, WebhookAuthenticator authenticator, FailedAuthentications failures, RejectionLog rejections,
        IOptions<WebhookOptions> options, ServiceMetrics metrics, ILoggerFactory loggers, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var logger = loggers.CreateLogger("CohortSync.Webhook");
        var settings = options.Value;
        WebhookPage? page = null;

        // The one log line of a request: ids and counts only, never a member's data.
        void Log(LogLevel level, string outcome, int status, Exception? error = null) =>
            logger.Log(level, error, LogLine,
                page?.Action.WireName, page?.ProjectId.Value, page?.CohortId.Value, page?.SessionId.Value,
                page?.PageInfo.PageCount, page?.PageInfo.TotalPages, outcome, status,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        JsonHttpResult<WebhookReply> Refuse(Rejection r, string action, Exception? error = null)
        {
            metrics.Rejected(r.Reason);
            rejections.Record(r with
            {
                Action = r.Action ?? (action.Length > 0 ? action : null),
                ProjectId = page?.ProjectId.Value, CohortId = page?.CohortId.Value, SessionId = page?.SessionId.Value,
            });
            var level = r.Status >= 500 ? (r.Status == 500 ? LogLevel.Error : LogLevel.Warning) : LogLevel.Information;
            Log(level, r.Reason, r.Status, error);
            if (r.Status == StatusCodes.Status401Unauthorized)
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"CohortSync\", charset=\"UTF-8\"";
            if (r.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
                http.Response.Headers.RetryAfter = settings.RetryAfterSeconds.ToString();
            return TypedResults.Json(WebhookReply.Failure(action, r.Message, r.Status), statusCode: r.Status);
        }

        try
        {
            var size = http.Request.ContentLength;
            var caller = authenticator.Authenticate(http.Request.Headers.Authorization);
            if (caller is null)
            {
                failures.Record(http, AccessRefusal.WebhookCredentials);
                var prefix = await RequestBody.PrefixAsync(http.Request, ct);
                return Refuse(new Rejection(401, "unauthorized", "missing or wrong Basic credentials", size),
                    WebhookBody.TryReadAction(prefix) ?? "");
            }

            var body = await RequestBody.ReadAsync(http.Request, settings.MaxBodyBytes, ct);
            if (body.TooLarge)
                return Refuse(new Rejection(413, "too_large", $"body is larger than {settings.MaxBodyBytes} bytes", size),
                    WebhookBody.TryReadAction(body.Bytes) ?? "");

            if (!WebhookBody.TryParse(body.Bytes, out var parsed, out var problems))
            {
                var shown = problems.Take(MaxProblemsInMessage).Select(p => p.ToString());
                var more = problems.Length > MaxProblemsInMessage ? $"; and {problems.Length - MaxProblemsInMessage} more" : "";
                return Refuse(new Rejection(400, "invalid_body", string.Join("; ", shown) + more, body.Bytes.Length),
                    WebhookBody.TryReadAction(body.Bytes) ?? "");
            }

            page = parsed;
            var action = page.Action.WireName;
            var about = new Rejection(0, "", "", body.Bytes.Length);
            if (!caller.Includes(page.ProjectId.Value))
                return Refuse(about with
                {
                    Status = 403, Reason = "forbidden_project",
                    Message = $"these credentials may not sync project {page.ProjectId}",
                }, action);

            SessionAssembly.PageDecision decision;
            try
            {
                decision = await store.ReceiveAsync(page, ct);
            }
            catch (Exception e) when (DatabaseFaults.IsTransient(e))
            {
                return Refuse(about with { Status = 503, Reason = "unavailable", Message = "storage is unavailable; retry later" },
                    action, e);
            }

            // The domain says what each outcome is answered with (the sender model judges the same statuses).
            metrics.PageDecided(page.Action, decision.Outcome);
            var status = decision.Outcome.HttpStatus;
            if (decision.Outcome is SessionAssembly.PageOutcome.ActionConflict conflict)
                return Refuse(about with { Status = status, Reason = "action_conflict", Message = conflict.Message }, action);

            Log(LogLevel.Information, decision.Outcome.ToString(), status);
            return TypedResults.Json(WebhookReply.Success(action), statusCode: status);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The sender gave up before the page was stored: nothing was acknowledged, nothing kept.
            Log(LogLevel.Information, "cancelled", 499);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A 5xx makes Mixpanel retry, never pause; the details stay in our log.
            return Refuse(new Rejection(500, "internal_error", "the page could not be stored; retry later", http.Request.ContentLength),
                page?.Action.WireName ?? "", e);
        }
    }
}
