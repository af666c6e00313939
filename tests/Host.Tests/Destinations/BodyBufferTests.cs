using System.Text.Json;
using CohortSync.Host.Destinations;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>A batch's body in a pooled buffer: the bytes written are the bytes stored and sent, however often it grew.</summary>
public sealed class BodyBufferTests
{
    [Fact]
    public void A_body_that_outgrows_its_first_arrays_holds_every_byte_written_in_order()
    {
        var changes = Enumerable.Range(0, 5_000)
            .Select(i => new { position = i, user = $"user-{i}", note = new string((char)('a' + i % 26), i % 97) })
            .ToArray();
        using var body = BodyBuffer.Rent(16);
        using (var writer = new Utf8JsonWriter(body))
            JsonSerializer.Serialize(writer, changes, JsonSerializerOptions.Web);

        var expected = JsonSerializer.SerializeToUtf8Bytes(changes, JsonSerializerOptions.Web);
        Assert.True(expected.Length > 256 * 1024, $"the body is {expected.Length} bytes: it should outgrow several arrays");
        Assert.Equal(expected.Length, body.Length);
        Assert.True(expected.AsSpan().SequenceEqual(body.Memory.Span), "the bytes differ from what was serialized");
    }

    [Fact]
    public void Advancing_past_the_room_given_is_refused_and_a_disposed_body_holds_nothing()
    {
        var body = BodyBuffer.Rent(16);
        var room = body.GetSpan(10).Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => body.Advance(room + 1));
        body.GetSpan(3)[..3].Fill((byte)'x');
        body.Advance(3);
        Assert.Equal("xxx"u8.ToArray(), body.Memory.ToArray());

        body.Dispose();
        Assert.Equal(0, body.Length);
        body.Dispose();
    }

    [Fact]
    public void A_body_given_as_an_array_is_that_array()
    {
        var bytes = "[{\"event\":\"x\"}]"u8.ToArray();
        using var body = BodyBuffer.Of(bytes);
        Assert.Equal(bytes, body.Memory.ToArray());
    }
}
