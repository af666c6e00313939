using CohortSync.Domain;

namespace CohortSync.Simulate;

/// <summary>
/// Users as Mixpanel would export them, derived from a user number alone, so that every cohort and
/// every run with the same seed names the same people the same way. Names are shared strings: a
/// million-member cohort holds a million ids and emails, not a million copies of "Ada".
/// </summary>
public static class SimulatedUsers
{
    static readonly string[] FirstNames =
        ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Niklaus", "Radia", "Tony"];

    static readonly string[] LastNames =
        ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Wirth", "Perlman", "Hoare"];

    static readonly string[] Plans = ["free", "starter", "pro", "enterprise"];

    static readonly string[] Countries = ["FR", "DE", "US", "JP", "BR", "IN", "NG", "SE"];

    public static string DistinctIdOf(long user) => $"user-{user}";

    /// <summary>The user's profile; <paramref name="revision"/> > 0 is a later version of it (another plan,
    /// more visits), as a profile change at the source produces.</summary>
    public static Member Profile(long user, int revision = 0)
    {
        var id = DistinctIdOf(user);
        var plan = Plans[(int)((user + revision) % Plans.Length)];
        var country = Countries[(int)(user % Countries.Length)];
        var properties = $$"""{"plan":"{{plan}}","country":"{{country}}","visits":{{user % 97 + revision * 3}}}""";
        return new Member(
            DistinctId.Of(id),
            $"{id}@example.com",
            FirstNames[user % FirstNames.Length],
            LastNames[user / FirstNames.Length % LastNames.Length],
            $"555-{user / 10_000 % 1_000:D3}-{user % 10_000:D4}",
            properties);
    }
}
