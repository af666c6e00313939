namespace CohortSync.Simulate;

/// <summary>
/// Independent random streams from one seed: each cohort's evolution and its network faults have their
/// own, so more faults do not change the cohorts, and concurrency does not change either.
/// (<see cref="HashCode"/> is randomised per process, so it cannot serve here.)
/// </summary>
public static class SimulationSeeds
{
    public enum Stream
    {
        Cohort = 1,
        Faults = 2,
        Sink = 3,
        Mixpanel = 4,
    }

    public static int For(int seed, int cohortIndex, Stream stream)
    {
        // SplitMix64's finaliser: nearby inputs give unrelated seeds.
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)cohortIndex * 0xBF58476D1CE4E5B9UL + (ulong)stream);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }
}
