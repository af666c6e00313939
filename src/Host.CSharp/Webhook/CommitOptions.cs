using System.ComponentModel.DataAnnotations;

namespace CohortSync.Host.Webhook;

/// <summary>When sealed sessions are applied (section <c>Commit</c>).</summary>
public sealed class CommitOptions
{
    public const string Section = "Commit";

    /// <summary>
    /// A sealed session of at most this many staged members is committed by the page that sealed it, in its
    /// transaction, so that its effects are visible when the page is answered; larger ones are committed
    /// behind, by the committer, and the last page is answered as soon as it is staged. 0: always behind.
    /// </summary>
    [Range(0, 1_000_000)]
    public int InlineMaxMembers { get; set; } = 5_000;

    /// <summary>How often the committer looks for sealed sessions when no page has told it of one.</summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 5;

    /// <summary>False: this process commits nothing behind (another process of the deployment does).</summary>
    public bool CommitterEnabled { get; set; } = true;
}
