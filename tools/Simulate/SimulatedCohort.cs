using CohortSync.Domain;
using static CohortSync.Mixpanel.Sender;

namespace CohortSync.Simulate;

/// <summary>
/// One cohort at the source and how it changes between syncs: members leave, as many users join
/// (some of them former members coming back), and some profiles change. Every choice comes from the
/// cohort's own random stream, so a seed replays the same cohorts whatever the concurrency.
/// </summary>
public sealed class SimulatedCohort
{
    // A user who joins is sometimes a former member rather than a new user: re-adds are part of real diffs.
    const double ComebackShare = 0.25;

    readonly Random random;
    readonly double churn;
    readonly List<long> members;
    readonly List<long> former = [];
    readonly long firstFreshUser;
    readonly int freshStride;
    long freshJoined;
    int changesMade;

    public int Index { get; }
    public CohortId CohortId { get; }
    public SourceCohort Source { get; private set; }

    public SimulatedCohort(SimulateOptions options, int index)
    {
        Index = index;
        churn = options.Churn;
        random = new Random(SimulationSeeds.For(options.Seed, index, SimulationSeeds.Stream.Cohort));
        CohortId = CohortId.Of($"sim-{options.Seed}-{index + 1}");

        // Neighbouring cohorts share half their initial members; users who join later are new to every
        // cohort, numbered above every initial range and interleaved so no two cohorts pick the same.
        var firstUser = (long)index * options.Size / 2;
        members = new List<long>(options.Size);
        for (var u = firstUser; u < firstUser + options.Size; u++)
            members.Add(u);
        firstFreshUser = (long)(options.Cohorts - 1) * options.Size / 2 + options.Size;
        freshStride = options.Cohorts;

        Source = SourceCohort.Of(
            ProjectId.Of(options.Project), CohortId, $"Simulated cohort {index + 1}",
            $"simulate --seed {options.Seed}", members.Select(u => SimulatedUsers.Profile(u)));
    }

    /// <summary>What happens at the source before the next sync.</summary>
    public void Evolve()
    {
        changesMade++;
        var leaving = (int)Math.Round(churn * members.Count);
        var changes = new List<CohortChange>(leaving * 3);

        var left = new List<long>(leaving);
        for (var i = 0; i < leaving; i++)
        {
            var user = TakeAt(members, random.Next(members.Count));
            left.Add(user);
            changes.Add(CohortChange.NewLeft(DistinctId.Of(SimulatedUsers.DistinctIdOf(user))));
        }

        for (var i = 0; i < leaving; i++)
        {
            var comesBack = former.Count > 0 && random.NextDouble() < ComebackShare;
            var user = comesBack ? TakeAt(former, random.Next(former.Count)) : NextFreshUser();
            members.Add(user);
            changes.Add(CohortChange.NewJoined(SimulatedUsers.Profile(user, changesMade)));
        }

        for (var i = 0; i < (leaving + 1) / 2 && members.Count > 0; i++)
        {
            var user = members[random.Next(members.Count)];
            changes.Add(CohortChange.NewProfileChanged(SimulatedUsers.Profile(user, changesMade)));
        }

        former.AddRange(left);
        Source = SourceCohortModule.ApplyAll(Source, changes);
    }

    long NextFreshUser() => firstFreshUser + Index + freshStride * freshJoined++;

    // Order does not matter: the last element fills the hole.
    static long TakeAt(List<long> list, int index)
    {
        var taken = list[index];
        list[index] = list[^1];
        list.RemoveAt(list.Count - 1);
        return taken;
    }
}
