using CohortSync.Host.Tests.Destinations;
using CohortSync.Host.Tests.Infrastructure;
using System.Net;
using Dapper;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace CohortSync.Host.Tests.OperatorConsole;

/// <summary>
/// The destinations section of the consumers page, in a real browser: one destination that takes every
/// batch and one that keeps answering 500, both real local servers fed by a sync through the webhook.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class DestinationsConsoleTests(HostFixture fx, Chromium chromium, ITestOutputHelper output) : IClassFixture<Chromium>
{
    static ILocator Row(IPage page, string id) => page.Locator($"tr[data-destination='{id}']");

    [Fact]
    public async Task Consumers_page_shows_each_destinations_state_backlog_failures_next_attempt_and_its_json()
    {
        await using var healthy = await DestinationServer.StartAsync();
        await using var broken = await DestinationServer.StartAsync();
        broken.Respond = (_, _) => new Answer(500);
        var c = TestCohort.New("console-destination");
        var (healthyId, _) = await fx.Client.CreateDestinationAsync(healthy.Url, c.Project);
        var (brokenId, _) = await fx.Client.CreateDestinationAsync(broken.Url, c.Project);
        try
        {
            await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
            await fx.Client.DeliveriesWhenAsync(healthyId, p => p.GetProperty("deliveries").GetArrayLength() > 0 && p.GetProperty("pendingBatches").GetInt32() == 0);
            // The second attempt comes 5 s after the first; the third is minutes away, so the page is read in between.
            await fx.Client.DeliveriesWhenAsync(brokenId, p => p.GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("attempts").GetInt32() == 2), seconds: 30);

            var page = await chromium.NewPageAsync(fx.A.BaseAddress);
            await page.GotoAsync("/console/consumers");
            Assert.Equal(0, await page.Locator("[data-destinations='none']").CountAsync());

            var ok = Row(page, healthyId);
            Assert.StartsWith(new Uri(healthy.Url).Authority, await ok.Locator("td").First.InnerTextAsync());
            Assert.DoesNotContain("/hook", await ok.Locator("td").First.InnerTextAsync());
            Assert.Contains("enabled", await ok.Locator("[data-state]").InnerTextAsync());
            Assert.Equal("0", await ok.Locator("[data-backlog]").InnerTextAsync());
            Assert.Equal("0", await ok.Locator("[data-failures]").InnerTextAsync());
            Assert.Contains("caught up", await ok.InnerTextAsync());

            var failing = Row(page, brokenId);
            Assert.Contains("enabled", await failing.Locator("[data-state]").InnerTextAsync());
            Assert.Equal("1", await failing.Locator("[data-backlog]").InnerTextAsync());
            Assert.Equal("2", await failing.Locator("[data-failures]").InnerTextAsync());
            Assert.Contains("behind", await failing.InnerTextAsync());
            // The next attempt: relative in the cell, the absolute time on hover.
            var next = failing.Locator("[data-next-attempt] time");
            Assert.StartsWith("in ", await next.InnerTextAsync());
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", await next.GetAttributeAsync("title"));
            output.WriteLine("destinations: " + await Chromium.ScreenshotAsync(page, "destinations"));

            // Its links are the JSON of /v1: the destination, then its deliveries.
            await ok.GetByRole(AriaRole.Link, new() { Name = "destination", Exact = true }).ClickAsync();
            Assert.EndsWith($"/v1/destinations/{healthyId}", page.Url);
            Assert.Contains(healthy.Url, await page.Locator("body").InnerTextAsync());
            await page.GoBackAsync();
            await Row(page, healthyId).GetByRole(AriaRole.Link, new() { Name = "deliveries" }).ClickAsync();
            Assert.EndsWith($"/v1/destinations/{healthyId}/deliveries", page.Url);
            Assert.Contains("\"pendingBatches\":0", await page.Locator("body").InnerTextAsync());
        }
        finally
        {
            // The failing one would otherwise be retried for a day against the shared host.
            using var deleted = await fx.Client.DeleteAsync($"/v1/destinations/{brokenId}");
            Assert.True(deleted.IsSuccessStatusCode, deleted.StatusCode.ToString());
        }
    }

    [Fact]
    public async Task Replay_asks_first_then_sends_the_changes_again_and_a_form_without_its_token_is_refused()
    {
        await using var server = await DestinationServer.StartAsync();
        var c = TestCohort.New("console-replay");
        var (id, _) = await fx.Client.CreateDestinationAsync(server.Url, c.Project);
        await fx.Client.PostOkAsync(c.Members("s1", 1, 1, "a", "b"));
        await fx.Client.DeliveriesWhenAsync(id, p => p.GetProperty("deliveries").GetArrayLength() > 0 && p.GetProperty("pendingBatches").GetInt32() == 0);

        // Posted from elsewhere, without the form's antiforgery token: refused, and no replay starts.
        var forged = await fx.Client.PostAsync($"/console/destinations/{id}/replay",
            new FormUrlEncodedContent([new("from", "WzAsIiJd")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await using (var connection = fx.OpenDatabase())
            Assert.Null(await connection.ExecuteScalarAsync<long?>("SELECT replay_position FROM destination WHERE destination_id = @id", new { id = Guid.Parse(id) }));

        var page = await chromium.NewPageAsync(fx.A.BaseAddress);
        await page.GotoAsync("/console/consumers");
        await Row(page, id).GetByRole(AriaRole.Link, new() { Name = "Replay " + new Uri(server.Url).Authority }).ClickAsync();
        Assert.EndsWith($"/console/destinations/{id}/replay", page.Url);
        Assert.Contains("marked replay", await page.Locator("#what-happens + p").InnerTextAsync());
        // The default: from the start of its oldest batch, so what it was sent goes again.
        Assert.True(await page.GetByRole(AriaRole.Radio, new() { Name = "the start of its oldest batch listed" }).IsCheckedAsync());
        output.WriteLine("replay: " + await Chromium.ScreenshotAsync(page, "replay"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        Assert.EndsWith($"/console/consumers?replayed={id}#destinations", page.Url);
        Assert.Contains("Replay of", await page.Locator($"[data-replayed='{id}']").InnerTextAsync());
        var json = await fx.Client.DeliveriesWhenAsync(id, p => p.GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("replay").GetBoolean()));
        var replays = json.GetProperty("deliveries").EnumerateArray().Count(d => d.GetProperty("replay").GetBoolean());
        await page.ReloadAsync();
        Assert.Equal(replays.ToString(System.Globalization.CultureInfo.InvariantCulture), await Row(page, id).Locator("[data-replay-batches]").InnerTextAsync());
        output.WriteLine("replayed: " + await Chromium.ScreenshotAsync(page, "replayed"));
        // The changes replayed are those it was sent first: a and b again.
        var first = json.GetProperty("deliveries").EnumerateArray().Last(d => !d.GetProperty("replay").GetBoolean());
        var replayed = json.GetProperty("deliveries").EnumerateArray().Last(d => d.GetProperty("replay").GetBoolean());
        Assert.Equal(first.GetProperty("from").GetString(), replayed.GetProperty("from").GetString());
        Assert.Equal(first.GetProperty("changeCount").GetInt32(), replayed.GetProperty("changeCount").GetInt32());

        var phone = await chromium.NewPageAsync(fx.A.BaseAddress, width: 390, height: 844);
        await phone.GotoAsync($"/console/destinations/{id}/replay");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the replay page is wider than the phone");
        Assert.Equal(404, (await phone.GotoAsync($"/console/destinations/{Guid.NewGuid()}/replay"))!.Status);
    }
}
