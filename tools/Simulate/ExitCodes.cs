namespace CohortSync.Simulate;

/// <summary>What <c>simulate</c> exits with: scripts and CI read these.</summary>
public static class ExitCodes
{
    /// <summary>Every cohort the service holds equals the sender's last successful snapshot.</summary>
    public const int Converged = 0;

    /// <summary>At least one cohort differs.</summary>
    public const int Diverged = 1;

    /// <summary>The command line was wrong; nothing was sent.</summary>
    public const int BadOptions = 2;

    /// <summary>The cohorts could not be read back (read API unreachable, refused, or unreadable).</summary>
    public const int NotChecked = 3;

    /// <summary>Converged, but some cohort's syncs were paused: the service answered 400/401/403/404
    /// (or another 4xx), which for a well-formed sync means wrong credentials or a receiver fault.</summary>
    public const int Paused = 4;

    /// <summary>Converged, but the <c>--json</c> summary could not be written (a script that reads it must not
    /// take a missing file for success).</summary>
    public const int SummaryNotWritten = 5;

    /// <summary>Converged, but with <c>--sink</c> a delivery check failed: a committed change not delivered, a
    /// signature that does not verify, a repeat that changed, a user targeted twice in one stay, the feed out of order.</summary>
    public const int DeliveryViolated = 7;

    public static int Of(ConvergenceResult convergence, int syncsPaused, bool deliveryPassed = true) =>
        convergence.Divergent.Count > 0 ? Diverged
        : convergence.Error is not null ? NotChecked
        : !deliveryPassed ? DeliveryViolated
        : syncsPaused > 0 ? Paused
        : Converged;

    /// <summary>A run whose <c>--json</c> summary could not be written keeps its verdict, unless that was success.</summary>
    public static int WithSummaryNotWritten(int verdict) => verdict == Converged ? SummaryNotWritten : verdict;
}
