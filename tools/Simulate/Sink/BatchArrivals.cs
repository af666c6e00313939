using System.Collections.Concurrent;

namespace CohortSync.Simulate.Sink;

/// <summary>A distinct batch as it first arrived: its webhook-id, when (a <see cref="System.Diagnostics.Stopwatch"/>
/// timestamp) and how many changes it carried (-1 when the sink kept its body instead of counting).</summary>
public sealed record BatchArrival(string WebhookId, long ArrivedAt, int Changes);

/// <summary>Each distinct batch a sink received, once, whatever its repeats: what the benchmark times.</summary>
public sealed class BatchArrivals
{
    readonly ConcurrentDictionary<string, BatchArrival> first = new();
    long changes;

    /// <summary>Changes in the distinct batches counted so far.</summary>
    public long Changes => Interlocked.Read(ref changes);

    public IReadOnlyList<BatchArrival> All => [.. first.Values.OrderBy(a => a.ArrivedAt)];

    public void Add(string webhookId, long arrivedAt, int count)
    {
        if (first.TryAdd(webhookId, new BatchArrival(webhookId, arrivedAt, count)) && count > 0)
            Interlocked.Add(ref changes, count);
    }
}
