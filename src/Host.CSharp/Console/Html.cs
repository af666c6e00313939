using System.Globalization;
using System.Text.Encodings.Web;

namespace CohortSync.Host.OperatorConsole;

/// <summary>
/// Writing HTML by hand, safely: every value goes through <see cref="Text"/> or <see cref="Attr"/>, so
/// ids and messages that came in a webhook body can never become markup.
/// </summary>
static class Html
{
    public static string Text(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static string Attr(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    /// <summary>A path segment or query value.</summary>
    public static string Url(string value) => Uri.EscapeDataString(value);

    /// <summary>Thousands separated, the same on every server whatever its culture.</summary>
    public static string Number(long value) =>
        value.ToString("N0", CultureInfo.InvariantCulture);


    public static string Number(long? value) => value is { } v ? Number(v) : "–";

    /// <summary>Relative to <paramref name="now"/> as text; the absolute UTC time on hover and for machines.</summary>
    public static string Time(DateTime? at, DateTime now)
    {
        if (at is not { } value)
            return """<span class="muted">never</span>""";
        var utc = DateTime.SpecifyKind(value.ToUniversalTime(), DateTimeKind.Utc);
        var iso = utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var title = utc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        return $"""<time datetime="{iso}" title="{title}">{Ago(now - utc)}</time>""";
    }

    /// <summary>A negative age is a time still to come, such as a next attempt.</summary>
    public static string Ago(TimeSpan age) => age switch
    {
        _ when age <= TimeSpan.FromSeconds(-1) => "in " + Duration(-age),
        _ when age < TimeSpan.FromSeconds(1) => "just now",
        _ => Duration(age) + " ago",
    };

    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 60 } => $"{Math.Max(0, (int)span.TotalSeconds)} s",
        { TotalMinutes: < 60 } => $"{(int)span.TotalMinutes} min",
        { TotalHours: < 48 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        _ => $"{(int)span.TotalDays} d {span.Hours} h",
    };
}
