using CohortSync.Simulate;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>Where the check reads the cohorts back, and what it makes of the read API's refusals.</summary>
[Collection(HostCollection.Name)]
public sealed class SimulateReadApiTests(HostFixture fx)
{
    [Fact]
    public async Task A_nested_webhook_path_still_reads_back_from_the_services_root()
    {
        var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Webhook:Path"] = "/hooks/mixpanel" });

        var result = await SimulateRunner.RunAsync(
        [
            "--url", new Uri(host.BaseAddress, "hooks/mixpanel").ToString(), "--project", SimulateRunner.NewProject("nested"),
            "--cohorts", "1", "--size", "20", "--syncs", "2", "--time-scale", "0", "--seed", "8",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        Assert.Equal(host.BaseAddress.ToString(), result.Summary!.Value.GetProperty("settings").GetProperty("readApiUrl").GetString());
    }

    [Fact]
    public async Task A_404_from_an_unknown_route_is_not_an_absent_cohort_but_exit_3()
    {
        var result = await SimulateRunner.RunAsync(
        [
            "--url", fx.A.WebhookUrl(), "--api-url", new Uri(fx.A.BaseAddress, "hooks/").ToString(),
            "--project", SimulateRunner.NewProject("no-route"),
            "--cohorts", "1", "--size", "5", "--syncs", "1", "--time-scale", "0", "--seed", "9",
        ]);

        Assert.True(result.ExitCode == ExitCodes.NotChecked, result.ToString());
        Assert.Contains("answered 404 without the read API's error body", result.Output);
        Assert.Contains("give --api-url", result.Output);
    }

    [Fact]
    public async Task A_read_limit_above_the_services_largest_page_says_so_and_a_lower_one_converges()
    {
        var host = await fx.StartHostAsync(new Dictionary<string, string?> { ["Api:MaxPageSize"] = "100" });
        string[] Args(params string[] more) =>
        [
            "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("read-limit"),
            "--cohorts", "1", "--size", "250", "--syncs", "1", "--time-scale", "0", "--seed", "10", .. more,
        ];

        var refused = await SimulateRunner.RunAsync(Args());
        Assert.True(refused.ExitCode == ExitCodes.NotChecked, refused.ToString());
        Assert.Contains("answered 400 (limit must be a whole number between 1 and 100): --read-limit 1000 is more than the service allows", refused.Output);

        // 250 members in pages of 100: the cursor is followed to the end.
        var lowered = await SimulateRunner.RunAsync(Args("--read-limit", "100"));
        Assert.True(lowered.ExitCode == ExitCodes.Converged, lowered.ToString());
    }
}
