namespace CohortSync.Host;

/// <summary>
/// Wakes a background worker that otherwise waits for its next poll. At most one wake-up waits: a burst of reasons
/// to look again needs one more look, not one each.
/// </summary>
sealed class WakeUp
{
    readonly SemaphoreSlim signal = new(0, 1);

    public void Set()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // A look is already due.
        }
    }

    /// <summary>Until woken or <paramref name="poll"/> has passed.</summary>
    public Task WaitAsync(TimeSpan poll, CancellationToken ct) => signal.WaitAsync(poll, ct);
}
