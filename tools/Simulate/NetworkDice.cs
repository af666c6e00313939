using static CohortSync.Mixpanel.Sender;

namespace CohortSync.Simulate;

/// <summary>
/// Picks the fault each call meets: with probability <c>faultRate</c> one of the kinds below, by fixed
/// weights; otherwise, with probability <c>duplicateRate</c>, a second delivery. One per cohort, drawn in
/// call order from the cohort's own stream (with one page in flight, a seed replays the same faults).
/// A receiver restart is not drawn: the simulator cannot restart a service it does not own.
/// </summary>
public sealed class NetworkDice(double faultRate, double duplicateRate, Random random)
{
    static readonly (Fault Fault, int Weight)[] Faults =
    [
        (Fault.LostBeforeReceiver, 6),
        (Fault.LostAfterReceiver, 6),
        (Fault.Delayed, 4),
        (Fault.NewProxyAnswered(502), 1),
        (Fault.NewProxyAnswered(503), 1),
        (Fault.NewProxyAnswered(504), 1),
        (Fault.NewProxyAnswered(429), 1),
    ];

    static readonly int TotalWeight = Faults.Sum(f => f.Weight);

    readonly Lock gate = new();

    public Fault Next()
    {
        // Pages in flight together draw from one stream.
        lock (gate)
        {
            if (random.NextDouble() < faultRate)
            {
                var pick = random.Next(TotalWeight);
                foreach (var (fault, weight) in Faults)
                {
                    if (pick < weight)
                        return fault;
                    pick -= weight;
                }
            }
            return random.NextDouble() < duplicateRate ? Fault.Duplicated : Fault.NoFault;
        }
    }

    /// <summary>The name a fault is counted under in the summary.</summary>
    public static string KindOf(Fault fault) => fault switch
    {
        { IsNoFault: true } => "none",
        { IsLostBeforeReceiver: true } => "lost-before-receiver",
        { IsLostAfterReceiver: true } => "lost-after-receiver",
        { IsDuplicated: true } => "duplicated",
        { IsDelayed: true } => "delayed",
        Fault.ProxyAnswered { Status: 429 } => "proxy-429",
        { IsProxyAnswered: true } => "proxy-5xx",
        { IsReceiverRestarted: true } => "receiver-restarted",
        _ => "other",
    };
}
