using CohortSync.Host.Database;
using CohortSync.Host.Webhook;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Retention;

/// <summary>Runs a <see cref="RetentionPass"/> every <c>Retention:IntervalMinutes</c>, the first one interval after the start.</summary>
public sealed class RetentionWorker(RetentionPass pass, IOptions<RetentionOptions> options, ILogger<RetentionWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("Retention is disabled (Retention:Enabled): nothing is deleted by age");
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.IntervalMinutes));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await pass.RunAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next pass takes up where this one stopped: every batch it finished stays done.
                var level = DatabaseFaults.IsTransient(e) ? LogLevel.Warning : LogLevel.Error;
                logger.Log(level, e, "Retention pass failed; the next one runs in {Minutes} minutes", options.Value.IntervalMinutes);
            }
        }
    }
}
