using CohortSync.Host;
using CohortSync.Host.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CohortSync.Simulate.Bench;

/// <summary>The database the service would use with the same configuration: <c>ConnectionStrings:CohortSync</c>, else
/// the private local server's <c>LocalPostgres:Database</c> (started, and the database created, when missing).</summary>
public static class ServiceDatabase
{
    /// <summary>The configuration the service reads (appsettings.json of the working folder, environment, and
    /// <paramref name="args"/> as <c>--Section:Key=value</c>).</summary>
    public static IConfiguration Configuration(string[] args) => WebApplication.CreateBuilder(args).Configuration;

    public static async Task<string> ConnectionStringAsync(IConfiguration config, TextWriter log)
    {
        var connectionString = config.GetConnectionString(CohortSyncApp.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(connectionString))
            return connectionString;
        var local = config.GetSection(LocalPostgresOptions.Section).Get<LocalPostgresOptions>() ?? new LocalPostgresOptions();
        return await LocalPostgres.EnsureStartedAsync(local, local.Database, log.WriteLine);
    }

    /// <summary>Drops the benchmark's database. Only one named as bench/run names them: this must never drop the
    /// service's own by a slip of configuration.</summary>
    public static async Task DropBenchDatabaseAsync(string connectionString, TextWriter log)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? "";
        if (!name.StartsWith(BenchCommands.DatabasePrefix, StringComparison.Ordinal))
            throw new InvalidOperationException($"refusing to drop {name}: only databases named {BenchCommands.DatabasePrefix}* are the benchmark's");
        var server = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"")}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
        await log.WriteLineAsync($"dropped database {name}");
    }
}
