using Prometheus;

namespace CohortSync.Host.Observability;

/// <summary>
/// /metrics in Prometheus' text format. Each application has its own registry (with the process and
/// .NET runtime metrics), so that several hosts in one process, as in the tests, keep apart.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static IServiceCollection AddServiceMetrics(this IServiceCollection services)
    {
        services.AddSingleton(_ =>
        {
            var registry = Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);
            return registry;
        });
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<SealedSessionsGauge>();
        return services;
    }

    /// <summary>Times the requests of everything mapped after it.</summary>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app) => app.UseMiddleware<RequestMetrics>();

    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        var registry = app.ServiceProvider.GetRequiredService<CollectorRegistry>();
        // Created here, with the endpoint that reads it: it registers itself to be read before each scrape.
        app.ServiceProvider.GetRequiredService<SealedSessionsGauge>();
        app.MapMetrics(settings => settings.Registry = registry, Path).WithTags(HealthEndpoints.Tag);
        return app;
    }
}
