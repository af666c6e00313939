using CohortSync.Host.Webhook;

namespace CohortSync.Host.Api;

/// <summary>
/// 503 rather than 500 when the database cannot answer now, so that a worker polling the feed knows
/// that trying again later is the cure; the details stay in the service's log.
/// </summary>
static class ReadApiFaults
{
    public const string UnavailableMessage = "the database is unavailable; retry later";

    public static RouteGroupBuilder AnswerOutagesWith503(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (WebhookEndpoints.IsTransient(e) && !context.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // The route's pattern, not its path: paths hold distinct ids, which may be email addresses.
                var route = (context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CohortSync.ReadApi")
                    .LogWarning(e, "{Method} {Route}: the database is unavailable", context.HttpContext.Request.Method, route);
                return TypedResults.Json(new ProblemBody(UnavailableMessage), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });
        group.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ProblemBody), ["application/json"]));
        return group;
    }
}
