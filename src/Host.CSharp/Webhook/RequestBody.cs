using Microsoft.AspNetCore.Http.Features;

namespace CohortSync.Host.Webhook;

/// <summary>A body read whole, or, when it is over the limit, its first bytes (enough to echo its action).</summary>
readonly record struct BodyRead(ReadOnlyMemory<byte> Bytes, bool TooLarge);

/// <summary>Reads request bodies within the configured limit.</summary>
static class RequestBody
{
    /// <summary>How much of a refused body is read: Mixpanel's bodies name their action first.</summary>
    public const int PrefixBytes = 4096;

    public static async Task<BodyRead> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        // Our limit, not Kestrel's default, decides (and is answered in Mixpanel's format). Lifted
        // before any early answer: Kestrel drains an unread body, and would cut the connection,
        // losing our 413, if the body passed its own limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = null;
        if (request.ContentLength > limit)
            return new BodyRead(await PrefixAsync(request, ct), TooLarge: true);

        var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 64 * 1024, limit));
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                buffer.Write(chunk, 0, (int)Math.Clamp(PrefixBytes - buffer.Length, 0, read));
                return new BodyRead(buffer.GetBuffer().AsMemory(0, (int)Math.Min(buffer.Length, PrefixBytes)), TooLarge: true);
            }
            buffer.Write(chunk, 0, read);
        }
        return new BodyRead(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), TooLarge: false);
    }

    /// <summary>At most <see cref="PrefixBytes"/> of the body; the rest is left unread.</summary>
    public static async Task<ReadOnlyMemory<byte>> PrefixAsync(HttpRequest request, CancellationToken ct)
    {
        var prefix = new byte[PrefixBytes];
        var length = 0;
        int read;
        while (length < prefix.Length && (read = await request.Body.ReadAsync(prefix.AsMemory(length), ct)) > 0)
            length += read;
        return prefix.AsMemory(0, length);
    }
}
