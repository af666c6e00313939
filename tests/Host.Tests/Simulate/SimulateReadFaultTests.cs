using CohortSync.Domain;
using CohortSync.Simulate;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>A read API that misbehaves while the check reads a cohort back: the check ends, and says why (exit code 3).</summary>
public sealed class SimulateReadFaultTests
{
    [Fact]
    public async Task A_cursor_given_again_stops_the_read_instead_of_going_round_for_ever()
    {
        var check = await CheckAgainstAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"members":[{"distinctId":"a"}],"next":"again"}""");
        });

        Assert.Contains("answered a cursor it had already given (next = again)", check.Error);
        Assert.Equal(ExitCodes.NotChecked, ExitCodes.Of(check, syncsPaused: 0));
    }

    [Fact]
    public async Task A_connection_broken_in_the_middle_of_a_body_is_a_failed_read_not_a_crash()
    {
        var check = await CheckAgainstAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = 1000;
            await context.Response.WriteAsync("""{"members":[{"distinctId":"a"},""");
            await context.Response.Body.FlushAsync();
            // Time for the headers to be read: the reset then comes while the body is parsed.
            await Task.Delay(300);
            context.Abort();
        });

        Assert.StartsWith("could not read the cohorts back", check.Error);
        Assert.Equal(ExitCodes.NotChecked, ExitCodes.Of(check, syncsPaused: 0));
    }

    static async Task<ConvergenceResult> CheckAgainstAsync(RequestDelegate members)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/v1/cohorts/{projectId}/{cohortId}/members", members);
        await app.StartAsync();

        using var service = new ServiceClient(new SimulateOptions { ApiUrl = new Uri(app.Urls.First() + "/") });
        var outcome = new CohortOutcome(
            ProjectId.Of("p"), CohortId.Of("c"), ExistedBefore: false, SyncsPlayed: 1, SyncsSucceeded: 1, Paused: false,
            Expected: [DistinctId.Of("a")], GivenUpButDelivered: [], Acknowledged: []);
        // Bounded: without the fix, the first read went round for ever.
        var check = await ConvergenceCheck.CheckAsync(service, [outcome], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await app.StopAsync();
        return check;
    }
}
