using Microsoft.AspNetCore.Http.Features;

namespace CohortSync.Host.Webhook;

/// <summary>Reads a request body whole, refusing it as soon as it passes the configured limit.</summary>
static class RequestBody
{
    /// <summary>The body, or null when it is larger than <paramref name="limit"/> bytes.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        // Our limit, not Kestrel's default, decides (and is answered in Mixpanel's format). Lifted
        // before any early answer: Kestrel drains an unread body, and would cut the connection,
        // losing our 413, if the body passed its own limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = null;
        if (request.ContentLength > limit)
            return null;

        var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 64 * 1024, limit));
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
