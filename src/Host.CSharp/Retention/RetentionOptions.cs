using System.ComponentModel.DataAnnotations;

namespace CohortSync.Host.Retention;

/// <summary>
/// What is kept, and for how long (section <c>Retention</c>). An abandoned session's staged members go
/// with it; history, transitions, rejections and action reports after their number of days.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>False stops the background passes (for a process that must not delete, say).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Minutes between passes (the first comes one interval after the start).</summary>
    [Range(1, 1440)]
    public int IntervalMinutes { get; set; } = 10;

    /// <summary>Finished sessions (with their actions and page records) are kept this many days after they finished.</summary>
    [Range(1, 36500)]
    public int SessionDays { get; set; } = 30;

    /// <summary>Transitions (the change feed's events) are kept this many days after they were recorded.</summary>
    [Range(1, 36500)]
    public int TransitionDays { get; set; } = 30;

    /// <summary>Rejected requests are kept this many days.</summary>
    [Range(1, 36500)]
    public int RejectionDays { get; set; } = 30;

    /// <summary>
    /// Action reports are kept this many days after they were received, and after that until every enabled
    /// mixpanel destination of their project has them in a batch. A repeat of a report's id is recognised
    /// only while the report is kept.
    /// </summary>
    [Range(1, 36500)]
    public int ActionReportDays { get; set; } = 30;

    /// <summary>
    /// An open session without a page for this long is given up (its staged members deleted, its late
    /// pages acknowledged and ignored). Mixpanel retries a page for about a minute and syncs every 30.
    /// </summary>
    [Range(1, 8760)]
    public int OpenSessionGraceHours { get; set; } = 24;

    /// <summary>Staged members that no stored page claims (an upload that never finished) go after this long.</summary>
    [Range(1, 10080)]
    public int UploadGraceMinutes { get; set; } = 60;

    /// <summary>Rows deleted per statement: each batch is its own short transaction.</summary>
    [Range(10, 100_000)]
    public int BatchSize { get; set; } = 1000;
}
