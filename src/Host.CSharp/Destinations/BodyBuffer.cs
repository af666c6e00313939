using System.Buffers;

namespace CohortSync.Host.Destinations;

/// <summary>
/// A batch's body in an array rented from the shared pool, written as it is formed or read back to be sent, and
/// returned when disposed. A body of a thousand changes is a third of a megabyte: allocated afresh, once formed and
/// again for every attempt, it went to the large object heap, which only full collections free, and a million
/// changes delivered cost five of them a second (docs/performance.md).
/// </summary>
public sealed class BodyBuffer : IBufferWriter<byte>, IDisposable
{
    byte[] array;
    int length;
    readonly bool pooled;

    BodyBuffer(byte[] array, int length, bool pooled) => (this.array, this.length, this.pooled) = (array, length, pooled);

    /// <summary>An empty buffer to write a body into, growing as needed.</summary>
    public static BodyBuffer Rent(int capacity = 64 * 1024) => new(ArrayPool<byte>.Shared.Rent(capacity), 0, true);

    /// <summary>A body already in an array of its own (a mixpanel destination's, which is smaller and gzipped when sent).</summary>
    public static BodyBuffer Of(byte[] body) => new(body, body.Length, false);

    public ReadOnlyMemory<byte> Memory => array.AsMemory(0, length);

    public int Length => length;

    public void Advance(int count)
    {
        if (count < 0 || length + count > array.Length)
            throw new ArgumentOutOfRangeException(nameof(count));
        length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var room = Room(sizeHint); // first: it may replace the array
        return array.AsMemory(length, room);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var room = Room(sizeHint);
        return array.AsSpan(length, room);
    }

    /// <summary>Makes room for at least <paramref name="sizeHint"/> more bytes (at least one), and says how much there is.</summary>
    int Room(int sizeHint)
    {
        var wanted = Math.Max(sizeHint, 1);
        if (array.Length - length < wanted)
        {
            if (!pooled)
                throw new InvalidOperationException("a body given as an array is not written to");
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(array.Length * 2, length + wanted));
            array.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(array);
            array = larger;
        }
        return array.Length - length;
    }

    public void Dispose()
    {
        if (pooled && array.Length > 0)
            ArrayPool<byte>.Shared.Return(array);
        array = [];
        length = 0;
    }
}
