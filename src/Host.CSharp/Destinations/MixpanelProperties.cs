using System.Text.Json;

namespace CohortSync.Host.Destinations;

/// <summary>
/// Checks event properties against Mixpanel's limits (fewer than 255, objects nested at most 3 deep and under
/// 255 keys, arrays under 255 elements), leaving room for the properties CohortSync adds, and refuses the names
/// it sets itself: an event Mixpanel would refuse is better refused when it is given.
/// </summary>
static class MixpanelProperties
{
    public const int MaxProperties = 200;
    public const int MaxBytes = 64 * 1024;
    const int MaxItems = 255;
    const int MaxDepth = 3;

    public static bool Check(JsonElement properties, string path, IReadOnlyCollection<string> reserved, List<string> problems)
    {
        var before = problems.Count;
        if (properties.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path} must be a JSON object");
            return false;
        }
        var names = properties.EnumerateObject().Select(p => p.Name).ToList();
        if (names.Count > MaxProperties)
            problems.Add($"{path} may hold at most {MaxProperties} properties");
        foreach (var name in names.Where(reserved.Contains))
            problems.Add($"{path}.{name} is set by CohortSync and cannot be given");
        if (names.Any(n => n.Length == 0 || n.Length > 255))
            problems.Add($"{path}: property names must be 1 to 255 characters");
        if (properties.GetRawText().Length > MaxBytes)
            problems.Add($"{path} must be at most {MaxBytes} bytes of JSON");
        if (!WithinLimits(properties, 1))
            problems.Add($"{path}: objects may nest at most {MaxDepth} deep, and objects and arrays hold fewer than {MaxItems} items");
        return problems.Count == before;
    }

    static bool WithinLimits(JsonElement value, int depth) => value.ValueKind switch
    {
        JsonValueKind.Object => depth <= MaxDepth && value.EnumerateObject().Count() < MaxItems
                                && value.EnumerateObject().All(p => WithinLimits(p.Value, depth + 1)),
        JsonValueKind.Array => value.GetArrayLength() < MaxItems && value.EnumerateArray().All(e => WithinLimits(e, depth)),
        _ => true,
    };
}
