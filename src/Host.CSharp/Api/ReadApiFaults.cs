using CohortSync.Host.Database;
using CohortSync.Host.Webhook;

namespace CohortSync.Host.Api;

/// <summary>
/// Faults answered with the problem body like every other refusal: 503 when the database cannot answer
/// now, so that a worker polling the feed knows that trying again later is the cure; 500 for anything
/// else. The details stay in the service's log.
/// </summary>
static class ReadApiFaults
{
    public const string UnavailableMessage = "the database is unavailable; retry later";
    public const string FaultMessage = "an unexpected fault; the details are in the service's log";

    public static RouteGroupBuilder AnswerFaults(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
            {
                var transient = DatabaseFaults.IsTransient(e);
                // The route's pattern, not its path: paths hold distinct ids, which may be email addresses.
                var route = (context.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CohortSync.ReadApi").Log(
                    transient ? LogLevel.Warning : LogLevel.Error, e, "{Method} {Route}: {Fault}",
                    context.HttpContext.Request.Method, route, transient ? "the database is unavailable" : "unexpected fault");
                return transient
                    ? TypedResults.Json(new ProblemBody(UnavailableMessage), statusCode: StatusCodes.Status503ServiceUnavailable)
                    : TypedResults.Json(new ProblemBody(FaultMessage), statusCode: StatusCodes.Status500InternalServerError);
            }
        });
        group.WithMetadata(
            new ProducesResponseTypeMetadata(StatusCodes.Status500InternalServerError, typeof(ProblemBody), ["application/json"]),
            new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ProblemBody), ["application/json"]));
        return group;
    }
}
