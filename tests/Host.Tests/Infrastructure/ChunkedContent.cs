using System.Net;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>A body sent without Content-Length (chunked), so the server only learns its size by reading it.</summary>
public sealed class ChunkedContent : HttpContent
{
    readonly byte[] body;

    public ChunkedContent(byte[] body)
    {
        this.body = body;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        foreach (var chunk in body.Chunk(1024))
        {
            await stream.WriteAsync(chunk);
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
