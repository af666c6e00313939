using CohortSync.Domain;
using CohortSync.Simulate;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>The convergence check finds a cohort that differs from the sender's last successful snapshot.</summary>
[Collection(HostCollection.Name)]
public sealed class SimulateDivergenceTests(HostFixture fx)
{
    [Fact]
    public async Task A_cohort_changed_behind_the_senders_back_is_reported_with_its_ids()
    {
        var project = SimulateRunner.NewProject("behind");
        var options = new SimulateOptions
        {
            WebhookUrl = new Uri(fx.A.WebhookUrl()), Project = project, Cohorts = 2, Size = 30, Churn = 0.1, Syncs = 2,
            TimeScale = 0, PageSize = 10, Seed = 99, Quiet = true,
        };
        var run = await Simulation.RunAsync(options, TextWriter.Null);
        Assert.Equal(ExitCodes.Converged, run.Summary.ExitCode);

        var changed = run.Cohorts[1];
        var removed = changed.Expected.Min()!.Value;
        await Db.ExecuteAsync(fx.ConnectionString,
            """
            DELETE FROM membership m USING cohort c
            WHERE c.cohort_key = m.cohort_key AND c.project_id = @project AND c.cohort_id = @cohort AND m.distinct_id = @removed;
            INSERT INTO membership (cohort_key, distinct_id, session_key)
            SELECT cohort_key, 'intruder', 0 FROM cohort WHERE project_id = @project AND cohort_id = @cohort;
            """,
            new { project, cohort = changed.CohortId.Value, removed });

        using var service = new ServiceClient(options);
        var check = await ConvergenceCheck.CheckAsync(service, run.Cohorts, CancellationToken.None);

        Assert.Null(check.Error);
        var divergence = Assert.Single(check.Divergent);
        Assert.Equal(changed.CohortId.Value, divergence.CohortId);
        Assert.Equal((1, 1), (divergence.Missing, divergence.Unexpected));
        Assert.Equal([removed], divergence.MissingExamples);
        Assert.Equal(["intruder"], divergence.UnexpectedExamples);
        Assert.Equal(divergence.Expected, divergence.Found);
        Assert.StartsWith("the service differs from the reference receiver", divergence.Explanation);
        Assert.Contains("the cohort did not exist before this run: a receiver fault", divergence.Explanation);
    }

    [Fact]
    public async Task A_divergence_the_reference_receiver_shares_is_not_called_a_receiver_fault()
    {
        // The sender's last success held {a}; its next sync, {a, b}, failed for the sender (answers lost)
        // though the service acknowledged every page and committed it.
        var c = TestCohort.New("given-up");
        var sync1 = c.Members("s1", 1, 1, "a");
        var sync2 = c.Members("s2", 1, 1, "a", "b");
        await fx.Client.PostOkAsync(sync1);
        await fx.Client.PostOkAsync(sync2);

        var shared = await CheckAsync(Outcome(c, existedBefore: false, givenUp: ["sync 2 (s2)"], acknowledged: [sync1, sync2]));
        Assert.Equal(["b"], shared.UnexpectedExamples);
        Assert.StartsWith("the reference receiver, given the pages the service acknowledged, holds the same: not a receiver fault", shared.Explanation);
        Assert.Contains("sync 2 (s2)", shared.Explanation);

        // Had the service acknowledged only sync 1, holding b would be its own fault.
        var own = await CheckAsync(Outcome(c, existedBefore: false, givenUp: [], acknowledged: [sync1]));
        Assert.StartsWith("the service differs from the reference receiver given the pages it acknowledged: 0 missing [], 1 unexpected [b]; "
                          + "the cohort did not exist before this run: a receiver fault", own.Explanation);

        // Not knowing whether the cohort was there before the run, the check names both causes.
        var unknown = await CheckAsync(Outcome(c, existedBefore: null, givenUp: [], acknowledged: [sync1]));
        Assert.Contains("either a receiver fault", unknown.Explanation);
        Assert.Contains("or it held members from before this run", unknown.Explanation);
    }

    static CohortOutcome Outcome(TestCohort c, bool? existedBefore, string[] givenUp, WebhookPage[] acknowledged) =>
        new(c.ProjectKey, c.CohortKey, existedBefore, SyncsPlayed: 2, SyncsSucceeded: 1, Paused: false, Expected: [DistinctId.Of("a")],
            GivenUpButDelivered: givenUp, Acknowledged: acknowledged);

    async Task<CohortDivergence> CheckAsync(CohortOutcome outcome)
    {
        using var service = new ServiceClient(new SimulateOptions { WebhookUrl = new Uri(fx.A.WebhookUrl()) });
        var check = await ConvergenceCheck.CheckAsync(service, [outcome], CancellationToken.None);
        Assert.Null(check.Error);
        return Assert.Single(check.Divergent);
    }

    [Fact]
    public async Task Reading_back_from_a_service_that_holds_other_members_exits_1()
    {
        // The read API of another deployment, where the same cohort holds someone else.
        var elsewhere = await fx.StartHostAsync(connectionString: await fx.CreateDatabaseAsync());
        var project = SimulateRunner.NewProject("elsewhere");
        var other = new TestCohort(project, "sim-3-1");
        await elsewhere.Client.PostOkAsync(other.Members("other-session", 1, 1, "stranger"));

        var result = await SimulateRunner.RunAsync(
        [
            "--url", fx.A.WebhookUrl(), "--api-url", elsewhere.BaseAddress.ToString(), "--project", project,
            "--cohorts", "1", "--size", "12", "--syncs", "1", "--time-scale", "0", "--seed", "3",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Diverged, result.ToString());
        Assert.Contains($"{project}/sim-3-1: expected 12, found 1; 12 missing [user-0, user-1, user-10, user-11, user-2], 1 unexpected [stranger]", result.Output);
        Assert.Equal(1, result.Summary!.Value.GetProperty("divergentCohorts").GetInt32());
    }

    [Fact]
    public async Task A_rerun_whose_syncs_all_fail_blames_the_earlier_runs_state_not_the_service()
    {
        var project = SimulateRunner.NewProject("leftover");
        string[] Args(params string[] more) =>
            ["--project", project, "--cohorts", "1", "--size", "10", "--syncs", "1", "--time-scale", "0", "--seed", "12", .. more];
        var first = await SimulateRunner.RunAsync(Args("--url", fx.A.WebhookUrl()));
        Assert.True(first.ExitCode == ExitCodes.Converged, first.ToString());

        // The same cohort again, but no call reaches the service: it still holds the first run's members.
        var second = await SimulateRunner.RunAsync(
            Args("--url", "http://127.0.0.1:9/webhook", "--api-url", fx.A.BaseAddress.ToString(), "--timeout", "2"));

        Assert.True(second.ExitCode == ExitCodes.Diverged, second.ToString());
        Assert.Contains("the cohort existed before this run and no sync of this run was committed to replace what it held then", second.Output);
        Assert.Contains("that, not a receiver fault, is the likely cause", second.Output);
    }

    [Fact]
    public async Task A_cohort_whose_every_sync_failed_is_expected_absent()
    {
        var project = SimulateRunner.NewProject("unreached");
        // Nothing listens on the webhook URL (a closed port of the same host), so every call goes unanswered;
        // the read API is the real one, where the cohort does not exist: that is convergence.
        var result = await SimulateRunner.RunAsync(
        [
            "--url", "http://127.0.0.1:9/webhook", "--api-url", fx.A.BaseAddress.ToString(), "--project", project,
            "--cohorts", "1", "--size", "5", "--syncs", "2", "--time-scale", "0", "--seed", "4", "--timeout", "2",
        ]);

        Assert.True(result.ExitCode == ExitCodes.Converged, result.ToString());
        var syncs = result.Summary!.Value.GetProperty("syncs");
        Assert.Equal(2, syncs.GetProperty("failed").GetInt32());
        Assert.Equal(12, result.Summary!.Value.GetProperty("answersSeen").GetProperty("no answer").GetInt32());
        // No connection was ever made: no copy reached the service.
        Assert.Equal(0, result.Summary!.Value.GetProperty("deliveries").GetInt64());
        Assert.Contains("; 0 copies answered by the service", result.Output);
    }
}
