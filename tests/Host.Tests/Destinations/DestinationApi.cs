using System.Net;
using System.Text;
using System.Text.Json;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Destinations;

/// <summary>Calls to /v1/destinations.</summary>
static class DestinationApi
{
    public static Task<ApiReply> PostApiAsync(this HttpClient client, string url, string body, string? key = null) =>
        client.SendApiAsync(HttpMethod.Post, url, new StringContent(body, Encoding.UTF8, "application/json"), key);

    public static Task<ApiReply> PatchApiAsync(this HttpClient client, string url, string body, string? key = null) =>
        client.SendApiAsync(HttpMethod.Patch, url, new StringContent(body, Encoding.UTF8, "application/json"), key);

    /// <summary>Creates a destination (201); its id and its secret.</summary>
    public static async Task<(string Id, string Secret)> CreateDestinationAsync(
        this HttpClient client, string url, string projectId, string extra = "", string? key = null)
    {
        var reply = await client.PostApiAsync("/v1/destinations",
            $$"""{"url": {{JsonSerializer.Serialize(url)}}, "projectId": {{JsonSerializer.Serialize(projectId)}}{{extra}}}""", key);
        Assert.True(reply.Status == HttpStatusCode.Created, reply.ToString());
        return (reply.Body.GetProperty("destination").Text("id"), reply.Body.Text("secret"));
    }

    public static Task<JsonElement> DeliveriesAsync(this HttpClient client, string id) =>
        client.GetOkAsync($"/v1/destinations/{id}/deliveries");

    /// <summary>Reads the deliveries until <paramref name="until"/> holds (the worker stores attempts as they end).</summary>
    public static async Task<JsonElement> DeliveriesWhenAsync(this HttpClient client, string id, Func<JsonElement, bool> until, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var page = await client.DeliveriesAsync(id);
            if (until(page))
                return page;
            Assert.True(DateTime.UtcNow < deadline, $"deliveries never became as expected: {page}");
            await Task.Delay(50);
        }
    }
}
