using CohortSync.Domain;
using CohortSync.Mixpanel;
using CohortSync.Domain.Tests;
using CohortSync.Host.Tests.Infrastructure;
using Microsoft.FSharp.Collections;
using static CohortSync.Mixpanel.Sender;

namespace CohortSync.Host.Tests;

/// <summary>
/// The convergence proof against the real host and PostgreSQL: the domain tests' generated histories and
/// fault schedules, played by the same sender model over HTTP, with the in-memory receiver as the oracle.
/// Calls alternate between hosts A and B (two processes of one deployment, or one restarting).
/// </summary>
[Collection(HostCollection.Name)]
public sealed class ConvergenceTests(HostFixture fx)
{
    const int Histories = 25;

    [Fact]
    public void Generated_histories_end_in_the_real_host_exactly_where_they_end_in_the_domain() =>
        HostChecks.CheckHistories(Histories, generated =>
        {
            var cohort = TestCohort.New("converge");
            var source = generated.Cohort;
            var history = new History(
                SourceCohort.Of(cohort.ProjectKey, cohort.CohortKey, "converging", null, source.Members.Values),
                generated.Ticks);

            var calls = 0;
            var host = VirtualMixpanel.RunRemote(
                page => (int)(++calls % 2 == 0 ? fx.A : fx.B).Client.PostAsync(page).GetAwaiter().GetResult().Status,
                () => fx.Client.MemberIdsAsync(cohort).GetAwaiter().GetResult(),
                session => Db.SessionsAsync(fx.ConnectionString, cohort).GetAwaiter().GetResult()
                    .Any(s => s.session_id == session.Value && s.state == "committed"),
                history);
            var oracle = VirtualMixpanel.runOurs(history);

            Assert.Equal(oracle.Reports.Select(r => r.Outcome), host.Reports.Select(r => r.Outcome));
            Assert.Equal(oracle.Orphaned, host.Orphaned);
            Assert.Equal(oracle.Moments.Length, host.Moments.Length);
            foreach (var (expected, actual) in oracle.Moments.Zip(host.Moments))
            {
                Assert.Equal(expected.Page, actual.Page);
                Assert.True(expected.Membership.Equals(actual.Membership),
                    $"after {expected.Page.SessionId} {expected.Page.Action} {expected.Page.PageInfo}: " +
                    $"domain [{string.Join(",", expected.Membership)}], host [{string.Join(",", actual.Membership)}]");
            }

            // The same transitions, session by session in commit order; within a session, as a set.
            static string[] Blocks(IEnumerable<(string Session, string Change)> rows) =>
                rows.GroupBy(r => r.Session)
                    .Select(g => g.Key + ": " + string.Join(" ", g.Select(r => r.Change).Order(StringComparer.Ordinal)))
                    .ToArray();
            var expectedTransitions = Blocks(Receiver.Transitions(cohort.ProjectKey, cohort.CohortKey, oracle.Receiver)
                .Select(t => (t.SessionId.Value, $"{t.Kind}:{t.DistinctId.Value}")));
            var actualTransitions = Blocks(Db.TransitionsAsync(fx.ConnectionString, cohort).GetAwaiter().GetResult()
                .Select(t => (t.session_id, $"{t.kind}:{t.distinct_id}")));
            Assert.Equal(expectedTransitions, actualTransitions);

            // Where Mixpanel heard of every commit, the host ends at its last successful snapshot.
            if (host.Orphaned.IsEmpty)
                Assert.Equal(
                    VirtualMixpanel.lastSuccessful(host).Select(d => d.Value).Order(StringComparer.Ordinal),
                    fx.Client.MemberIdsAsync(cohort).GetAwaiter().GetResult());
        });

    /// <summary>
    /// Real restarts: the host serving the calls is stopped and a new one started on the same database
    /// in the middle of each session (after calls 2, 5 and 8 of 9), while Mixpanel's model keeps syncing.
    /// </summary>
    [Fact]
    public async Task A_host_restarted_mid_session_loses_nothing_that_was_acknowledged()
    {
        var cohort = TestCohort.New("restart");
        Member User(int n) => Users.M($"u{n}");
        var history = new History(
            SourceCohort.Of(cohort.ProjectKey, cohort.CohortKey, "restarting", null, Enumerable.Range(1, 7).Select(User)),
            ListModule.OfSeq(new[]
            {
                new Tick(ListModule.Empty<CohortChange>(), ListModule.Empty<Fault>()),
                new Tick(ListModule.OfSeq(new[] { CohortChange.NewJoined(User(8)), CohortChange.NewLeft(DistinctId.Of("u1")), CohortChange.NewLeft(DistinctId.Of("u2")) }),
                    ListModule.OfSeq(new[] { Fault.LostAfterReceiver, Fault.NoFault })),
                new Tick(ListModule.OfSeq(new[] { CohortChange.NewJoined(User(1)), CohortChange.NewJoined(User(9)) }), ListModule.Empty<Fault>()),
            }));

        var restartAfter = new HashSet<int> { 2, 5, 8 };
        var serving = await fx.StartHostAsync();
        var calls = 0;
        var restarts = 0;
        var host = await Task.Run(() => VirtualMixpanel.RunRemote(
            page =>
            {
                var status = (int)serving.Client.PostAsync(page).GetAwaiter().GetResult().Status;
                if (restartAfter.Contains(++calls))
                {
                    serving.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    serving = fx.StartHostAsync().GetAwaiter().GetResult();
                    restarts++;
                }
                return status;
            },
            () => fx.Client.MemberIdsAsync(cohort).GetAwaiter().GetResult(),
            session => Db.SessionsAsync(fx.ConnectionString, cohort).GetAwaiter().GetResult()
                .Any(s => s.session_id == session.Value && s.state == "committed"),
            history));

        Assert.Equal(9, calls);
        Assert.Equal(3, restarts);
        Assert.All(host.Reports, r => Assert.Equal(SyncOutcome.Succeeded, r.Outcome));
        Assert.Equal(["u1", "u3", "u4", "u5", "u6", "u7", "u8", "u9"], await fx.Client.MemberIdsAsync(cohort));
        var transitions = (await Db.TransitionsAsync(fx.ConnectionString, cohort)).Select(t => t.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(
            new[] { "sync-1:entered:u1", "sync-1:entered:u2", "sync-1:entered:u3", "sync-1:entered:u4", "sync-1:entered:u5",
                    "sync-1:entered:u6", "sync-1:entered:u7", "sync-2:entered:u8", "sync-2:exited:u1", "sync-2:exited:u2",
                    "sync-3:entered:u1", "sync-3:entered:u9" },
            transitions);
    }
}
