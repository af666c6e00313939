using CohortSync.Domain;
using CohortSync.Mixpanel;

namespace CohortSync.Simulate.Load;

/// <summary>One sync of the load run with every page's body rendered: the clock times the service, not the renderer.</summary>
public sealed record RenderedSync(SessionId SessionId, byte[][] Bodies, string[] PageNames, long Members)
{
    public int Pages => Bodies.Length;
    public long Bytes => Bodies.Sum(b => (long)b.Length);
}

/// <summary>
/// Who is in the load run's cohort, by user number (user i is <see cref="SimulatedUsers.Profile"/>(i)): users
/// 0 .. size-1 at the full sync; the diff adds users size .. size+entering-1 and removes every
/// <c>step</c>-th member, spread over the whole cohort. Membership is arithmetic, so no set of a million ids is held.
/// </summary>
public sealed class LoadPlan
{
    readonly long removeStep;

    public LoadPlan(int size, int diff, int pageSize)
    {
        Size = size;
        Entering = diff / 2;
        Leaving = diff - diff / 2;
        PageSize = pageSize;
        removeStep = Leaving == 0 ? 1 : size / Leaving;
    }

    public int Size { get; }
    public int Entering { get; }
    public int Leaving { get; }
    public int PageSize { get; }
    public bool HasDiff => Entering + Leaving > 0;
    public long CountAfterDiff => (long)Size + Entering - Leaving;

    IEnumerable<long> EnteringUsers => LongRange(Size, Entering);
    IEnumerable<long> LeavingUsers => LongRange(0, Leaving).Select(k => k * removeStep);

    public bool Leaves(long user) => user < Size && user % removeStep == 0 && user / removeStep < Leaving;

    /// <summary>Whether <paramref name="user"/> is a member once the full sync, and the diff when <paramref name="afterDiff"/>, committed.</summary>
    public bool IsMember(long user, bool afterDiff) =>
        afterDiff ? (user < Size && !Leaves(user)) || (user >= Size && user < Size + Entering) : user < Size;

    /// <summary>Users to look up one by one after the run: members kept, members who left, members who entered,
    /// and users never sent (about <paramref name="perGroup"/> of each, spread over their range).</summary>
    public IReadOnlyList<long> Sample(int perGroup, bool afterDiff)
    {
        var users = new SortedSet<long>();
        // The k-th user of a group is userAt(k); where that one does not fit, the next in the group that does.
        void Spread(long count, Func<long, long> userAt, Func<long, bool> fits)
        {
            var step = Math.Max(1, count / perGroup);
            var taken = 0;
            for (var k = step / 2; k < count && taken < perGroup; k += step)
                for (var j = k; j < count && j < k + step; j++)
                    if (fits(userAt(j)))
                    {
                        if (users.Add(userAt(j)))
                            taken++;
                        break;
                    }
        }

        Spread(Size, k => k, u => !afterDiff || !Leaves(u));
        if (afterDiff)
        {
            Spread(Leaving, k => k * removeStep, _ => true);
            Spread(Entering, k => Size + k, _ => true);
        }
        Spread(perGroup, k => Size + Entering + k, _ => true);
        return users.ToArray();
    }

    public RenderedSync RenderFullSync(ProjectId project, CohortId cohort, SessionId session) =>
        Render(project, cohort, session, [(WebhookAction.Members, LongRange(0, Size).ToArray())]);

    /// <summary><c>add_members</c> then <c>remove_members</c>, both sent even when empty, as Mixpanel does.</summary>
    public RenderedSync RenderDiffSync(ProjectId project, CohortId cohort, SessionId session) =>
        Render(project, cohort, session,
            [(WebhookAction.AddMembers, EnteringUsers.ToArray()), (WebhookAction.RemoveMembers, LeavingUsers.ToArray())]);

    RenderedSync Render(ProjectId project, CohortId cohort, SessionId session, (WebhookAction Action, long[] Users)[] actions)
    {
        var pages = actions
            .SelectMany(a =>
            {
                var total = Math.Max(1, (a.Users.Length + PageSize - 1) / PageSize);
                return Enumerable.Range(0, total).Select(i => (a.Action, a.Users, Index: i, Total: total));
            })
            .ToArray();
        var bodies = new byte[pages.Length][];
        // Pages are independent: rendered on every core, each one's members dropped once it is written.
        Parallel.For(0, pages.Length, i =>
        {
            var (action, users, index, total) = pages[i];
            var members = new Member[Math.Min(PageSize, users.Length - index * PageSize)];
            for (var j = 0; j < members.Length; j++)
                members[j] = SimulatedUsers.Profile(users[index * PageSize + j]);
            bodies[i] = PageBody.Render(new WebhookPage(
                action, project, cohort, "Load test", "", session,
                new PageInfo(total, index + 1), members));
        });
        var names = pages.Select(p => $"{p.Action.WireName} page {p.Index + 1} of {p.Total}").ToArray();
        return new RenderedSync(session, bodies, names, actions.Sum(a => (long)a.Users.Length));
    }

    static IEnumerable<long> LongRange(long from, long count)
    {
        for (var i = 0L; i < count; i++)
            yield return from + i;
    }
}
