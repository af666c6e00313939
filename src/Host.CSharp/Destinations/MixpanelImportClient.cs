using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace CohortSync.Host.Destinations;

/// <summary>
/// POSTs a batch of events to Mixpanel's <c>/import</c> with <c>strict=1</c>, gzipped, and reads the answer:
/// 200 delivered; 400 partial, with the <c>failed_records</c> Mixpanel names (the others were ingested);
/// 401 and 403 unauthorized; anything else failed. The credentials go in the Authorization header only; the
/// configured integration id goes in <c>X-Mixpanel-Integration-ID</c>.
/// </summary>
public sealed class MixpanelImportClient : IDisposable
{
    const int MaxErrorLength = 300;
    const string IntegrationIdHeader = "X-Mixpanel-Integration-ID";
    readonly HttpClient http;
    readonly IOptions<DestinationOptions> options;

    public MixpanelImportClient(IOptions<DestinationOptions> options)
    {
        this.options = options;
        http = DestinationClient.NewHttpClient(options.Value, guardAddresses: false);
    }

    /// <summary>The URL a batch goes to: the region's host, strict, and the project for a service account.</summary>
    public string ImportUrl(string region, string? serviceAccountUsername, string? importProjectId) =>
        options.Value.Mixpanel.ImportUrl(region) + "?strict=1"
        + (serviceAccountUsername is null ? "" : "&project_id=" + Uri.EscapeDataString(importProjectId ?? ""));

    public async Task<DeliveryAnswer> PostAsync(string url, string? serviceAccountUsername, string secret, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Gzipped(body) };
        // The project token is the Basic user with an empty password; a service account is user and secret.
        var user = serviceAccountUsername is null ? $"{secret}:" : $"{serviceAccountUsername}:{secret}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user)));
        if (options.Value.Mixpanel.IntegrationId is { Length: > 0 } integrationId)
            request.Headers.Add(IntegrationIdHeader, integrationId);
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(ct);
            return status switch
            {
                200 => new DeliveryAnswer(status, DeliveryAnswer.Delivered, null, TimeSpan.FromTicks(-1), clock.Elapsed),
                400 => Partial(text, clock.Elapsed),
                401 or 403 => new DeliveryAnswer(status, DeliveryAnswer.Unauthorized, $"HTTP {status}: Mixpanel refused the credentials: {Short(text)}",
                    TimeSpan.FromTicks(-1), clock.Elapsed),
                _ => new DeliveryAnswer(status, DeliveryAnswer.Failed, $"HTTP {status}",
                    status is 429 or 502 or 503 ? DestinationClient.RetryAfter(response.Headers.RetryAfter) : TimeSpan.FromTicks(-1), clock.Elapsed),
            };
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryAnswer(null, DeliveryAnswer.Timeout, $"no answer within {http.Timeout.TotalSeconds:0} s", TimeSpan.FromTicks(-1), clock.Elapsed);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryAnswer(null, DeliveryAnswer.Unreachable, e.HttpRequestError.ToString(), TimeSpan.FromTicks(-1), clock.Elapsed);
        }
    }

    /// <summary>A 400 under strict=1: the records Mixpanel refused, as index, insert_id, field and message.</summary>
    static DeliveryAnswer Partial(string text, TimeSpan latency)
    {
        string? failed = null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("failed_records", out var records)
                                                                  && records.ValueKind == JsonValueKind.Array)
                failed = records.GetRawText();
        }
        catch (JsonException)
        {
        }
        var count = failed is null ? 0 : JsonDocument.Parse(failed).RootElement.GetArrayLength();
        return new DeliveryAnswer(400, DeliveryAnswer.Partial,
            failed is null ? $"HTTP 400 without failed_records: {Short(text)}" : $"HTTP 400: Mixpanel refused {count} records; the others were ingested",
            TimeSpan.FromTicks(-1), latency, failed);
    }

    static string Short(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength] + "…";

    static ByteArrayContent Gzipped(ReadOnlyMemory<byte> body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(body.Span);
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    public void Dispose() => http.Dispose();
}
