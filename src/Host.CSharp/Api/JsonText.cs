using System.Text.Json;

namespace CohortSync.Host.Api;

/// <summary>jsonb read as text (Dapper has no jsonb mapping) and shown as the JSON it is.</summary>
static class JsonText
{
    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static JsonElement ObjectOrEmpty(string? json) =>
        json is null ? EmptyObject : JsonDocument.Parse(json).RootElement.Clone();
}
