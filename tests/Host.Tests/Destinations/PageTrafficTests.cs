using System.Diagnostics;
using CohortSync.Host.Webhook;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Delivery gives way to the webhook's pages under way, for a while, and goes on as soon as they are answered.</summary>
public sealed class PageTrafficTests
{
    [Fact]
    public async Task Giving_way_waits_while_a_page_is_under_way_at_most_the_limit_and_ends_with_the_page()
    {
        var traffic = new PageTraffic();
        var clock = Stopwatch.StartNew();
        await traffic.GiveWayAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"no page under way, yet it waited {clock.Elapsed}");

        using (traffic.Enter())
        {
            clock.Restart();
            await traffic.GiveWayAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(200), $"gave way for {clock.Elapsed} only");
        }

        var page = traffic.Enter();
        var waiting = traffic.GiveWayAsync(TimeSpan.FromSeconds(30), CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        page.Dispose();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Pages_are_flowing_while_one_is_under_way_and_for_the_window_after_the_last_answer()
    {
        var traffic = new PageTraffic();
        var window = TimeSpan.FromSeconds(1);
        Assert.False(traffic.Flowing(window));
        var page = traffic.Enter();
        Assert.True(traffic.Flowing(window));
        await Task.Delay(window * 1.5);
        Assert.True(traffic.Flowing(window), "a page under way for longer than the window still counts");
        page.Dispose();
        Assert.True(traffic.Flowing(window), "a page answered a moment ago: the next may follow");
        await Task.Delay(window * 1.5);
        Assert.False(traffic.Flowing(window));
    }
}
