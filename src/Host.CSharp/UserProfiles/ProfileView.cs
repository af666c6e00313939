using System.Text.Json;
using CohortSync.Host.Api;

namespace CohortSync.Host.UserProfiles;

/// <summary>A user's latest profile in a project, merged field by field over the commits that carried it.</summary>
public sealed record ProfileView(
    string? Email, string? FirstName, string? LastName, string? PhoneNumber, JsonElement Properties, DateTime UpdatedAt)
{
    /// <summary>The columns of <c>user_profile</c>, with <c>properties</c> read as text.</summary>
    internal sealed record Row(
        string? email, string? first_name, string? last_name, string? phone_number, string properties, DateTime updated_at);

    internal static ProfileView From(Row r) =>
        new(r.email, r.first_name, r.last_name, r.phone_number, JsonText.ObjectOrEmpty(r.properties), r.updated_at);
}
