using System.ComponentModel.DataAnnotations;

namespace CohortSync.Host.Database;

/// <summary>The private PostgreSQL used when no connection string is configured (section <c>LocalPostgres</c>).</summary>
public sealed class LocalPostgresOptions
{
    public const string Section = "LocalPostgres";

    /// <summary>Where the data folder lives; default <c>.local/postgres</c> in the checkout.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The server's port. Left out, each checkout keeps a free port of its own (in the data folder's
    /// <c>port</c> file), so that two checkouts on one machine can both run.
    /// </summary>
    [Range(1024, 65535)]
    public int? Port { get; set; }

    /// <summary>The database the service uses on that server.</summary>
    [Required]
    public string Database { get; set; } = "cohortsync";
}
