using System.Collections.Concurrent;

namespace CohortSync.Simulate.Sink;

/// <summary>
/// Seeded dice that make the sink a faulty destination. A request meets a fault with probability <c>rate</c>,
/// by fixed weights: 5xx (500, 502, 503, 504) 30%; 429 with <c>Retry-After: 1</c> 20%; slow 25% (a 200 after a
/// delay drawn up to <c>slow</c>, longer than the caller waits when <c>slow</c> is above its timeout); lost 25%
/// (handled, then the connection is closed without an answer). Every fault is counted by kind.
/// </summary>
public sealed class SinkFaults(double rate, TimeSpan slow, int seed)
{
    public const string ServerError = "5xx", Throttled = "429", Slow = "slow", Lost = "lost";

    static readonly int[] ServerErrors = [500, 502, 503, 504];

    readonly Random dice = new(seed);
    readonly ConcurrentDictionary<string, long> counts = new();

    public double Rate => rate;

    /// <summary>Faults met so far, by kind.</summary>
    public IReadOnlyDictionary<string, long> Counts => new SortedDictionary<string, long>(counts);

    /// <summary>The answer to one request: a 200, or a fault.</summary>
    public Answer Respond(Received request, int index)
    {
        double fault, kind, draw;
        lock (dice)
            (fault, kind, draw) = (dice.NextDouble(), dice.NextDouble(), dice.NextDouble());
        if (fault >= rate)
            return new Answer(200);
        var (name, answer) = kind switch
        {
            < 0.30 => (ServerError, new Answer(ServerErrors[(int)(draw * ServerErrors.Length)])),
            < 0.50 => (Throttled, new Answer(429, RetryAfter: "1")),
            < 0.75 => (Slow, new Answer(200, Delay: slow * draw)),
            _ => (Lost, new Answer(200, Drop: true)),
        };
        counts.AddOrUpdate(name, 1, (_, n) => n + 1);
        return answer;
    }
}
