using System.Text.Json;

namespace CohortSync.Simulate.Sink;

/// <summary>Counts the changes of a delivery's body without building it: a million changes pass through the
/// benchmark's sink, which must not be what is measured.</summary>
static class ChangeCount
{
    public static int Of(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        var count = 0;
        var inChanges = false;
        while (reader.Read())
        {
            if (!inChanges)
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("changes"))
                {
                    reader.Read();
                    inChanges = reader.TokenType == JsonTokenType.StartArray;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
                    reader.Skip();
                continue;
            }
            if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 1)
                return count;
            count++;
            reader.Skip();
        }
        return count;
    }
}
