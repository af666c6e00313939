using System.Threading.Channels;
using Dapper;
using Npgsql;

namespace CohortSync.Host.Webhook;

/// <summary>A refused request, as recorded: never its body, never its credentials.</summary>
public sealed record Rejection(
    int Status, string Reason, string Message, long? SizeBytes,
    string? Action = null, string? ProjectId = null, string? CohortId = null, string? SessionId = null);

/// <summary>
/// Records refused requests in the background, one at a time through a bounded queue: a refusal is
/// never slowed or failed by it, and a flood of refusals cannot take connections from real pages
/// (past the queue's bound they are counted in the log instead).
/// </summary>
public sealed class RejectionLog(NpgsqlDataSource dataSource, ILogger<RejectionLog> logger) : BackgroundService
{
    readonly Channel<Rejection> queue = Channel.CreateBounded<Rejection>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    long dropped;

    public void Record(Rejection rejection)
    {
        if (!queue.Writer.TryWrite(rejection))
            Interlocked.Increment(ref dropped);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var r in queue.Reader.ReadAllAsync(stoppingToken))
        {
            if (Interlocked.Exchange(ref dropped, 0) is var lost and > 0)
                logger.LogWarning("{Count} rejections were not recorded: the queue was full", lost);
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                await connection.ExecuteAsync(
                    """
                    INSERT INTO rejected_request (status, reason, message, size_bytes, action, project_id, cohort_id, session_id)
                    VALUES (@Status, @Reason, @Message, @SizeBytes, @Action, @ProjectId, @CohortId, @SessionId)
                    """, r);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not record a {Reason} rejection: {Error}", r.Reason, e.Message);
            }
        }
    }
}
