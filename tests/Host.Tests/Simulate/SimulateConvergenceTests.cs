using System.Text.Json;
using CohortSync.Simulate;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary><c>simulate</c> against the real host: faults and duplicates, and the service still converges.</summary>
[Collection(HostCollection.Name)]
public sealed class SimulateConvergenceTests(HostFixture fx)
{
    [Fact]
    public async Task Syncs_through_faults_and_duplicates_converge_and_the_summary_adds_up()
    {
        var result = await SimulateRunner.RunAsync(
        [
            "--url", fx.A.WebhookUrl(), "--project", SimulateRunner.NewProject("faults"),
            "--cohorts", "3", "--size", "300", "--churn", "0.1", "--syncs", "6",
            "--fault-rate", "0.2", "--duplicate-rate", "0.2", "--time-scale", "0", "--page-size", "50", "--seed", "20261127",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var s = result.Summary!.Value;
        Assert.Equal(0, s.GetProperty("divergentCohorts").GetInt32());
        Assert.Equal(3, s.GetProperty("convergence").GetProperty("cohortsChecked").GetInt32());

        var syncs = s.GetProperty("syncs");
        Assert.Equal(18, syncs.GetProperty("planned").GetInt32());
        Assert.Equal(18, Int(syncs, "succeeded") + Int(syncs, "failed") + Int(syncs, "paused"));
        Assert.Equal(0, Int(syncs, "paused"));
        Assert.Equal(18, Int(syncs, "full") + Int(syncs, "diff"));

        // Every call is one answer seen; an accepted page is a 2xx seen; a fault is one of its kinds.
        var calls = Int(s, "calls");
        var answers = Counts(s.GetProperty("answersSeen"));
        Assert.Equal(calls, answers.Values.Sum());
        Assert.Equal(Int(s, "pages"), answers.Where(a => a.Key.StartsWith('2')).Sum(a => a.Value));
        Assert.True(Int(s, "faultsInjected") > 0, result.ToString());
        Assert.Equal(Int(s, "faultsInjected"), Counts(s.GetProperty("faultsByKind")).Values.Sum());
        Assert.True(Int(s, "retries") > 0, result.ToString());
        Assert.True(Int(s, "duplicates") > 0, result.ToString());
        Assert.Equal(calls, Int(s, "pages") + Int(s, "retries") + Int(syncs, "failed") + Int(syncs, "paused"));

        // The first syncs are full copies of 300 members in pages of 50.
        Assert.True(Int(s, "pages") >= 3 * 6 + 15 * 2, result.ToString());
        Assert.True(s.GetProperty("ackLatency").GetProperty("p50").GetDouble() > 0);
        Assert.Contains("0 divergent", result.Output);
    }

    [Fact]
    public async Task A_rerun_with_the_same_seed_converges_again()
    {
        var args = new[]
        {
            "--url", fx.A.WebhookUrl(), "--project", SimulateRunner.NewProject("rerun"),
            "--cohorts", "2", "--size", "40", "--churn", "0.2", "--syncs", "3", "--time-scale", "0", "--page-size", "10",
            "--seed", "5", "--quiet",
        };
        var first = await SimulateRunner.RunAsync(args);
        var second = await SimulateRunner.RunAsync(args);

        Assert.True(first.ExitCode == ExitCodes.Converged, first.ToString());
        Assert.True(second.ExitCode == ExitCodes.Converged, second.ToString());
        Assert.Equal("", second.Output);
        // Same cohorts, new sessions: the second run's first syncs were not answered as already committed.
        Assert.NotEqual(
            first.Summary!.Value.GetProperty("settings").GetProperty("sessionPrefix").GetString(),
            second.Summary!.Value.GetProperty("settings").GetProperty("sessionPrefix").GetString());
    }

    [Fact]
    public async Task Basic_credentials_come_from_the_environment_and_wrong_ones_pause_every_cohort()
    {
        var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Webhook:Credentials:0:Username"] = "mixpanel",
            ["Webhook:Credentials:0:Password"] = "right-secret",
        });
        // Each run its own project: a cohort that a run never synced must not hold another run's members.
        string[] Args() =>
        [
            "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("auth"), "--username", "mixpanel",
            "--cohorts", "2", "--size", "20", "--syncs", "2", "--time-scale", "0", "--seed", "11",
        ];

        var right = await SimulateRunner.RunAsync(Args(), new Dictionary<string, string> { [SimulateCommand.PasswordVariable] = "right-secret" });
        Assert.True(right.ExitCode == ExitCodes.Converged, right.ToString());
        Assert.Contains("user mixpanel", right.Output);

        var wrong = await SimulateRunner.RunAsync(Args(), new Dictionary<string, string> { [SimulateCommand.PasswordVariable] = "wrong-secret" });
        Assert.True(wrong.ExitCode == ExitCodes.Paused, wrong.ToString());
        var syncs = wrong.Summary!.Value.GetProperty("syncs");
        Assert.Equal(2, Int(syncs, "paused"));
        Assert.Equal(2, Int(syncs, "skipped"));
        Assert.Equal(2, Counts(wrong.Summary!.Value.GetProperty("answersSeen"))["401"]);
        // No password in anything printed or written.
        Assert.DoesNotContain("secret", right + wrong.ToString() + right.Summary + wrong.Summary);
    }

    static int Int(JsonElement e, string name) => e.GetProperty(name).GetInt32();

    static Dictionary<string, int> Counts(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
}
