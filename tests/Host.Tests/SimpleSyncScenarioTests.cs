using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests;

/// <summary>Mixpanel's own "Simple Sync Scenario", over HTTP, checked in the API and in the transition table.</summary>
[Collection(HostCollection.Name)]
public sealed class SimpleSyncScenarioTests(HostFixture fx)
{
    [Fact]
    public async Task Simple_sync_scenario_ends_with_A_C_E_F_and_records_each_change_once()
    {
        var c = TestCohort.New("simple");
        var client = fx.Client;

        // T: add_members(A, B, C, D) | remove_members()
        await client.PostOkAsync(c.Add("s1", 1, 1, "A", "B", "C", "D"));
        await client.PostOkAsync(c.Remove("s1", 1, 1));
        Assert.Equal(["A", "B", "C", "D"], await client.MemberIdsAsync(c));

        // T+0.5h: add_members(E, F) | remove_members(B, D)
        await client.PostOkAsync(c.Add("s2", 1, 1, "E", "F"));
        await client.PostOkAsync(c.Remove("s2", 1, 1, "B", "D"));
        Assert.Equal(["A", "C", "E", "F"], await client.MemberIdsAsync(c));

        // T+1h: add_members() | remove_members()
        await client.PostOkAsync(c.Add("s3", 1, 1));
        await client.PostOkAsync(c.Remove("s3", 1, 1));
        Assert.Equal(["A", "C", "E", "F"], await client.MemberIdsAsync(c));

        var transitions = await Db.TransitionsAsync(fx.ConnectionString, c);
        Assert.Equal(
            new[] { "s1:entered:A", "s1:entered:B", "s1:entered:C", "s1:entered:D", "s2:entered:E", "s2:entered:F", "s2:exited:B", "s2:exited:D" },
            transitions.Select(t => t.ToString()).Order(StringComparer.Ordinal));
        // Session 1's changes come before session 2's.
        Assert.True(transitions.Where(t => t.session_id == "s1").Max(t => t.commit_position)
                    < transitions.Where(t => t.session_id == "s2").Min(t => t.commit_position));

        var sessions = await Db.SessionsAsync(fx.ConnectionString, c);
        Assert.Equal(
            new[] { ("s1", "diff", "committed", 4, 0), ("s2", "diff", "committed", 2, 2), ("s3", "diff", "committed", 0, 0) },
            sessions.Select(s => (s.session_id, s.kind, s.state, s.entered_count ?? -1, s.exited_count ?? -1)));
    }
}
