using System.Globalization;

namespace CohortSync.Simulate.Sink;

/// <summary>The delivery part of simulate's text summary: every check with its count.</summary>
public static class DeliveryText
{
    public static void Write(DeliverySummary d, TextWriter w)
    {
        var c = CultureInfo.InvariantCulture;
        var v = d.Verification;
        string Check(int problems) => problems == 0 ? "ok" : "VIOLATED";
        var faults = d.Faults.Count == 0 ? "none" : string.Join(", ", d.Faults.Select(kv => $"{kv.Key} {kv.Value}"));

        w.WriteLine(string.Create(c,
            $"  sink           destination {d.DestinationId}, batches of {d.BatchSize}, fault rate {d.FaultRate}, slow up to {d.SlowSeconds} s; "
            + $"faults played: {faults}"));
        w.WriteLine(string.Create(c,
            $"  deliveries     {v.Requests:N0} requests, {v.Batches:N0} distinct batches, {v.Repeats:N0} repeats; {v.Delivered:N0} changes "
            + $"({v.Entered:N0} entered, {v.Exited:N0} exited); {(d.CaughtUp ? "caught up" : "NOT caught up")} {d.WaitSeconds:F2} s after the check, "
            + $"destination {d.DestinationState}"));
        w.WriteLine(string.Create(c,
            $"  delivered      {v.Expected:N0} committed changes in the feed: {v.Missing:N0} never delivered, {v.Unexpected:N0} not in the feed -> {Check(v.Missing + v.Unexpected)}"));
        w.WriteLine(string.Create(c,
            $"  signatures     {v.SignaturesVerified:N0} verified, {v.SignaturesFailed:N0} failed, {v.StaleTimestamps:N0} stale timestamps -> {Check(v.SignaturesFailed + v.StaleTimestamps)}"));
        w.WriteLine(string.Create(c,
            $"  repeats        {v.Repeats:N0}: {v.RepeatsChanged:N0} with another body, {v.ResentUnderNewId:N0} changes under a second webhook-id -> {Check(v.RepeatsChanged + v.ResentUnderNewId)}"));
        w.WriteLine(string.Create(c, $"  targeted once  {v.TargetedTwice:N0} users entered twice in one stay -> {Check(v.TargetedTwice)}"));
        w.WriteLine($"  feed order     the distinct batches, concatenated, {(v.NotInFeedOrder == 0 ? "are" : "are NOT")} the feed in order -> {Check(v.NotInFeedOrder)}");
        if (d.Mixpanel is { } m)
        {
            var played = m.Faults.Count == 0 ? "none" : string.Join(", ", m.Faults.Select(kv => $"{kv.Key} {kv.Value}"));
            w.WriteLine(string.Create(c,
                $"  mixpanel sink  destination {m.DestinationId}, /import stand-in on 127.0.0.1:{m.Port}: {m.Requests:N0} requests, faults played: {played}; "
                + $"{(m.CaughtUp ? "caught up" : "NOT caught up")}, destination {m.DestinationState}"));
            if (m.Requests == 0)
                w.WriteLine($"    the stand-in received nothing: run the service with {MixpanelSink.Configuration(m.Port)}");
        }
        foreach (var e in v.Elsewhere)
            w.WriteLine(string.Create(c,
                $"  {e.Name,-14} {e.Held:N0} held: {e.Missing:N0} delivered and missing there, {e.Unexpected:N0} never delivered -> {Check(e.Missing + e.Unexpected)}"));
        w.WriteLine(string.Create(c, $"  delivery       {v.Violations:N0} violations"));
        foreach (var example in v.Examples)
            w.WriteLine($"    {example}");
    }
}
