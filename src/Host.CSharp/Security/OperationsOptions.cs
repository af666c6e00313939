using Microsoft.Extensions.Options;

namespace CohortSync.Host.Security;

/// <summary>
/// Where <c>/metrics</c> and the OpenAPI document are served (section <c>Operations</c>). Neither set,
/// they answer anyone who reaches the service, as they hold no member data.
/// </summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>
    /// A URL of their own (<c>http://0.0.0.0:9090</c>), listened on besides the service's URLs; they are
    /// then served on that port only.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>Bearer keys, one of which they then require (Prometheus: <c>authorization: credentials</c>).</summary>
    public List<string> Keys { get; set; } = [];

    /// <summary>The port of <see cref="Url"/>, or null when none is set.</summary>
    public int? Port => string.IsNullOrWhiteSpace(Url) ? null : BindingAddress.Parse(Url).Port;
}

/// <summary>A URL must name its port, and a key must not be empty (a misspelt setting).</summary>
public sealed class OperationsOptionsValidator : IValidateOptions<OperationsOptions>
{
    public ValidateOptionsResult Validate(string? name, OperationsOptions options)
    {
        var problems = options.Keys
            .Select((k, i) => (k, i))
            .Where(x => string.IsNullOrWhiteSpace(x.k))
            .Select(x => $"Operations:Keys:{x.i} is empty")
            .ToList();
        if (!string.IsNullOrWhiteSpace(options.Url))
        {
            int? port;
            try
            {
                port = options.Port;
            }
            catch (FormatException)
            {
                port = null;
            }
            if (port is null or <= 0)
                problems.Add($"Operations:Url ({options.Url}) must be a URL with a fixed port, such as http://0.0.0.0:9090");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
