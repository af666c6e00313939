using CohortSync.Host.Cohorts;
using CohortSync.Host.Destinations;
using CohortSync.Host.Feed;
using CohortSync.Host.Rejections;
using CohortSync.Host.UserProfiles;

namespace CohortSync.Host.Api;

/// <summary>Everything under /v1: queries, the change feed and its consumers, behind one access check.</summary>
public static class ReadApi
{
    public static IServiceCollection AddReadApi(this IServiceCollection services) =>
        services
            .AddSingleton<ApiKeyAuthenticator>()
            .AddScoped<ApiCaller>()
            .AddSingleton<CohortQueries>()
            .AddSingleton<MemberQueries>()
            .AddSingleton<SessionQueries>()
            .AddSingleton<UserQueries>()
            .AddSingleton<RejectionQueries>()
            .AddSingleton<FeedQueries>()
            .AddSingleton<ConsumerStore>();

    public static IEndpointRouteBuilder MapReadApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1")
            .RequireApiAccess()
            .AnswerFaults()
            .DecodeIdsExactly()
            .RefuseTextWithNul()
            .MapCohorts()
            .MapUsers()
            .MapRejections()
            .MapFeed()
            .MapConsumers()
            .MapDestinations()
            .MapDestinationDeliveries()
            .MapActionReports();
        return app;
    }
}
