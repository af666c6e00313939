using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Destinations;

/// <summary>Delivery to destinations (section <c>Destinations</c>).</summary>
public sealed class DestinationOptions
{
    public const string Section = "Destinations";

    /// <summary>False stops this process's delivery worker (destinations can still be managed).</summary>
    public bool DeliveryEnabled { get; set; } = true;

    /// <summary>How often the worker looks for new changes and due retries.</summary>
    [Range(10, 60_000)]
    public int PollMilliseconds { get; set; } = 200;

    /// <summary>Deliveries under way at once in this process, each to a different destination.</summary>
    [Range(1, 256)]
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>Batches formed ahead of delivery per destination: bounds what a dead destination piles up.</summary>
    [Range(1, 1000)]
    public int MaxPendingBatches { get; set; } = 20;

    /// <summary>How long a destination has to answer a delivery.</summary>
    [Range(1, 30)]
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Seconds before attempts 1, 2, ...; left out, Standard Webhooks' example schedule (at once, 5 s,
    /// 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h). The last attempt failing marks the destination failing.
    /// </summary>
    public List<double> RetryDelaysSeconds { get; set; } = [];

    /// <summary>How long the previous secret keeps signing after a rotation.</summary>
    [Range(0, 720)]
    public double RotationGraceHours { get; set; } = 24;

    /// <summary>Refuses to connect to private, link-local and shared address ranges (an SSRF guard).</summary>
    public bool RefusePrivateNetworks { get; set; }

    /// <summary>With <see cref="RefusePrivateNetworks"/>: still allows loopback (for tests and a local sink).</summary>
    public bool AllowLoopback { get; set; } = true;

    /// <summary>Where mixpanel destinations send their events.</summary>
    public MixpanelOptions Mixpanel { get; set; } = new();

    internal TimeSpan[] RetryDelays =>
        RetryDelaysSeconds.Count == 0
            ? Domain.Targeting.RetrySchedule.Standard
            : [.. RetryDelaysSeconds.Select(TimeSpan.FromSeconds)];
}

/// <summary>A retry schedule must never wait a negative time, and every region needs an ingestion host.</summary>
public sealed class DestinationOptionsValidator : IValidateOptions<DestinationOptions>
{
    public ValidateOptionsResult Validate(string? name, DestinationOptions options)
    {
        var problems = options.Mixpanel.Problems().ToList();
        if (options.RetryDelaysSeconds.Any(d => d < 0 || d > 7 * 24 * 3600))
            problems.Add("Destinations:RetryDelaysSeconds must be seconds from 0 to 604800");
        return problems.Count > 0 ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
