namespace CohortSync.Host.Security;

/// <summary>
/// Settings from files, one per key, as container platforms mount secrets: a file named
/// <c>Webhook__Credentials__0__Password</c> holds that setting (<c>__</c> separates sections).
/// </summary>
public static class SecretsFolder
{
    public const string Setting = "Secrets:Directory";
    const string Default = "/run/secrets";

    /// <summary>
    /// Adds <c>Secrets:Directory</c>, or else <c>/run/secrets</c> when it exists. The files are read
    /// after every other source, so they win over environment variables and the command line.
    /// </summary>
    public static void AddSecretsFolder(this IConfigurationManager configuration)
    {
        var configured = configuration[Setting];
        var folder = !string.IsNullOrWhiteSpace(configured) ? configured : Directory.Exists(Default) ? Default : null;
        if (folder is not null)
            configuration.AddKeyPerFile(Path.GetFullPath(folder), optional: false);
    }
}
