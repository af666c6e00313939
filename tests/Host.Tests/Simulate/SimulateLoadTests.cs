using System.Net.Http.Json;
using System.Text.Json;
using CohortSync.Simulate;
using CohortSync.Simulate.Load;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary><c>simulate --load</c> against the real host: a timed full sync and diff, verified; and a refusal ends it.</summary>
[Collection(HostCollection.Name)]
public sealed class SimulateLoadTests(HostFixture fx)
{
    [Fact]
    public async Task A_load_run_times_a_full_sync_and_a_diff_and_verifies_the_cohort()
    {
        var project = SimulateRunner.NewProject("load");
        var result = await SimulateRunner.RunAsync(
        [
            "--load", "--url", fx.A.WebhookUrl(), "--project", project,
            "--size", "3000", "--page-size", "500", "--diff", "1000", "--in-flight", "2",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var s = result.Summary!.Value;
        var verification = s.GetProperty("verification");
        Assert.True(verification.GetProperty("passed").GetBoolean(), result.ToString());
        // 500 enter and 500 leave: the count is back where the full sync left it.
        Assert.Equal(3000, verification.GetProperty("expectedCount").GetInt64());
        Assert.Equal(3000, verification.GetProperty("foundCount").GetInt64());
        Assert.True(verification.GetProperty("sampled").GetInt32() >= 150, result.ToString());

        var full = s.GetProperty("full");
        Assert.Equal(6, full.GetProperty("pages").GetInt32());
        Assert.Equal(3000, full.GetProperty("members").GetInt64());
        Assert.True(full.GetProperty("firstRequestToCommittedSeconds").GetDouble() >= full.GetProperty("pushSeconds").GetDouble());
        Assert.True(full.GetProperty("ackLatency").GetProperty("p99").GetDouble() > 0);
        // add_members then remove_members, one page of 500 each.
        Assert.Equal(2, s.GetProperty("diff").GetProperty("pages").GetInt32());
        Assert.Contains("-> passed", result.Output);

        // What the service says on its own: two committed sessions, the diff's last.
        var cohort = s.GetProperty("settings").GetProperty("cohort").GetString()!;
        var sessions = await fx.Client.GetFromJsonAsync<JsonElement>($"/v1/cohorts/{project}/{cohort}/sessions");
        Assert.Equal(["committed", "committed"], sessions.GetProperty("sessions").EnumerateArray().Select(x => x.GetProperty("state").GetString()));
        Assert.Equal(s.GetProperty("diff").GetProperty("sessionId").GetString(), sessions.GetProperty("sessions")[0].GetProperty("sessionId").GetString());
    }

    [Fact]
    public async Task A_page_the_service_refuses_aborts_the_load_run()
    {
        var host = await fx.StartHostAsync(new Dictionary<string, string?>
        {
            ["Webhook:Credentials:0:Username"] = "mixpanel",
            ["Webhook:Credentials:0:Password"] = "right-secret",
        });

        var result = await SimulateRunner.RunAsync(
            ["--load", "--url", host.WebhookUrl(), "--project", SimulateRunner.NewProject("load-refused"), "--username", "mixpanel", "--size", "100"],
            new Dictionary<string, string> { [SimulateCommand.PasswordVariable] = "wrong-secret" });

        Assert.True(result.ExitCode == LoadRun.Aborted, result.ToString());
        Assert.Contains("members page 1 of 1 was answered 401", result.Error);
        var s = result.Summary!.Value;
        Assert.Contains("401", s.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, s.GetProperty("full").ValueKind);
        Assert.DoesNotContain("secret", result + s.ToString());
    }

    [Theory]
    [InlineData("--diff 10", "--diff needs --load")]
    [InlineData("--load --fault-rate 0.1", "--fault-rate does not apply to --load")]
    [InlineData("--load --size 10 --diff 30", "--diff must be between 0 and twice --size")]
    public async Task Load_options_that_make_no_sense_are_refused(string args, string message)
    {
        var result = await SimulateRunner.RunAsync(["--url", fx.A.WebhookUrl(), .. args.Split(' ')]);

        Assert.True(result.ExitCode == ExitCodes.BadOptions, result.ToString());
        Assert.Contains(message, result.Error);
    }
}
