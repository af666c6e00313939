using System.ComponentModel;
using CohortSync.Host.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Destinations;

/// <summary>The destinations feature: its services, its worker, and its deliveries endpoint.</summary>
public static class Destinations
{
    public static IServiceCollection AddDestinations(this IServiceCollection services)
    {
        services.AddOptions<DestinationOptions>().BindConfiguration(DestinationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<DestinationOptions>, DestinationOptionsValidator>();
        services.AddSingleton<DestinationStore>();
        services.AddSingleton<DeliveryQueries>();
        services.AddSingleton<DestinationMetrics>();
        services.AddSingleton<DestinationClient>();
        services.AddSingleton<MixpanelImportClient>();
        services.AddSingleton<WebhookKind>();
        services.AddSingleton<MixpanelKind>();
        services.AddSingleton<DestinationKinds>();
        services.AddSingleton<ActionReportStore>();
        services.AddSingleton<BatchForming>();
        services.AddSingleton<BatchDelivery>();
        services.AddHostedService<DeliveryWorker>();
        return services;
    }

    public static RouteGroupBuilder MapDestinationDeliveries(this RouteGroupBuilder v1)
    {
        v1.MapGet("/destinations/{id}/deliveries", DeliveriesAsync).WithName("GetDestinationDeliveries")
            .WithSummary("Read a destination's deliveries")
            .WithDescription("The destination's batches newest first, each with its webhook-id, its attempts (status, outcome, latency) and its next attempt; and how far behind the feed the destination is: batches waiting, seconds since the oldest undelivered change was committed, and where forming has got to.");
        return v1;
    }

    static async Task<Results<Ok<DeliveriesPage>, NotFound<ProblemBody>, BadRequest<ProblemBody>>> DeliveriesAsync(
        [Description("The destination's id, as its creation answered.")] string id,
        [Description("A page's next, to continue with older batches; left out, the newest.")] string? after,
        string? limit,
        DeliveryQueries queries, ApiCaller caller, IOptions<ApiOptions> options, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit, options.Value, out var take) is { } badLimit)
            return badLimit;
        long? before = null;
        if (after is not null)
        {
            if (!Cursor.TryDecode(after, out long batch))
                return Paging.BadCursor();
            before = batch;
        }
        return Guid.TryParse(id, out var key) && await queries.PageAsync(key, caller.Scope.Projects, before, take, ct) is { } page
            ? TypedResults.Ok(page)
            : TypedResults.NotFound(new ProblemBody($"no destination {id}"));
    }
}
