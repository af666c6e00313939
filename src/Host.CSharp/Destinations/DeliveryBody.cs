using System.Text.Json;
using System.Text.Json.Serialization;

namespace CohortSync.Host.Destinations;

/// <summary>
/// What a destination is POSTed: the changes of one batch in feed order. <c>Replay</c> is true for an operator's
/// resend. Fixed when the batch is formed: every attempt sends these same bytes.
/// </summary>
public sealed record DeliveryBody(string Type, bool Replay, IReadOnlyList<DeliveredChange> Changes)
{
    public const string ChangesType = "cohort.changes";
}

/// <summary>
/// One transition: <c>Position</c> is its feed cursor (as <c>/v1/events</c> gives it), <c>Kind</c> entered or
/// exited, <c>CommittedAt</c> when the session that made it committed. The profile is the user's latest when
/// the batch was formed (null if none was ever sent).
/// </summary>
public sealed record DeliveredChange(
    string Position, string ProjectId, DeliveredCohort Cohort, DeliveredUser User, string Kind, string SessionId, DateTime CommittedAt);

public sealed record DeliveredCohort(string Id, string? Name);

public sealed record DeliveredUser(string DistinctId, DeliveredProfile? Profile);

/// <summary>
/// A user's profile as <c>/v1</c> shows it. <c>Properties</c> is the stored JSON object, written as it is stored:
/// a batch holds a thousand of them, and parsing each only to write it again was a large share of forming's time.
/// </summary>
public sealed record DeliveredProfile(
    string? Email, string? FirstName, string? LastName, string? PhoneNumber, StoredJson Properties, DateTime UpdatedAt);

/// <summary>JSON that PostgreSQL stored (jsonb read as text), so valid: written without being parsed.</summary>
[JsonConverter(typeof(StoredJsonConverter))]
public sealed record StoredJson(string Text)
{
    sealed class StoredJsonConverter : JsonConverter<StoredJson>
    {
        public override StoredJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return new StoredJson(document.RootElement.GetRawText());
        }

        public override void Write(Utf8JsonWriter writer, StoredJson value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.Text, skipInputValidation: true);
    }
}
