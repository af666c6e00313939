using System.Diagnostics;
using System.Security.Cryptography;
using CohortSync.Host.Configuration;
using Npgsql;

namespace CohortSync.Host.Database;

/// <summary>
/// The embedded default: when no connection string is configured, a private PostgreSQL server in a
/// data folder of this checkout (git-ignored), started as a non-root user and reused on later starts.
/// The Debian <c>postgresql</c> package is installed when its binaries are missing.
/// </summary>
public static class LocalPostgres
{
    const string Role = "cohortsync";

    /// <summary>Makes sure the private server runs and returns a connection string to <paramref name="database"/>.</summary>
    public static async Task<string> EnsureStartedAsync(LocalPostgresOptions options, string database, Action<string> log)
    {
        var root = Path.GetFullPath(options.DataDirectory ?? DefaultDirectory());
        Directory.CreateDirectory(root);
        // Test runs and hosts may start together: one of them provisions, the others wait for it.
        using var guard = await AcquireLockAsync(Path.Combine(root, "provision.lock"));

        var bin = FindBinaries() ?? InstallPostgres(log);
        var data = Path.Combine(root, "data");
        var passwordFile = Path.Combine(root, "password");
        var osUser = Environment.UserName == "root" ? ServerUser(root) : null;

        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
            await InitialiseAsync(bin, root, data, passwordFile, osUser, options.Port, log);

        var password = (await File.ReadAllTextAsync(passwordFile)).Trim();
        if (Run(bin, "pg_ctl", osUser, "-D", data, "status").ExitCode != 0)
        {
            log($"starting the local PostgreSQL in {data} on 127.0.0.1:{options.Port}");
            var start = Run(bin, "pg_ctl", osUser, "-D", data, "-l", Path.Combine(data, "server.log"), "-w", "-t", "120", "start");
            if (start.ExitCode != 0)
                throw new InvalidOperationException(
                    $"the local PostgreSQL did not start (see {Path.Combine(data, "server.log")}): {start.Output}");
        }

        var server = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = options.Port, Username = Role, Password = password, Database = "postgres",
        };
        await CreateDatabaseIfMissingAsync(server.ConnectionString, database);
        server.Database = database;
        return server.ConnectionString;
    }

    /// <summary>The folder under the checkout (found by CohortSync.sln), else under the user's home.</summary>
    static string DefaultDirectory()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CohortSync.sln")))
                    return Path.Combine(dir.FullName, ".local", "postgres");
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cohortsync", "postgres");
    }

    static async Task<FileStream> AcquireLockAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "postgres")) && File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    static string InstallPostgres(Action<string> log)
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException(
                "PostgreSQL is not installed: run `sudo apt-get install -y postgresql`, or set ConnectionStrings__CohortSync");
        log("PostgreSQL binaries are missing: installing the Debian postgresql package");
        var install = Exec("/bin/sh", ["-c",
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q postgresql"]);
        if (install.ExitCode != 0)
            throw new InvalidOperationException($"apt-get install postgresql failed: {install.Output}");
        return FindBinaries() ?? throw new InvalidOperationException("postgresql installed, but its binaries were not found");
    }

    /// <summary>
    /// The non-root account the server runs as when we are root: Debian's <c>postgres</c> (created
    /// with the package, or here if missing). It must be able to reach the data folder.
    /// </summary>
    static string ServerUser(string root)
    {
        const string user = "postgres";
        if (Exec("id", ["-u", user]).ExitCode != 0)
        {
            var add = Exec("useradd", ["--system", "--user-group", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/bash", user]);
            if (add.ExitCode != 0)
                throw new InvalidOperationException($"could not create the {user} user: {add.Output}");
        }
        if (Exec("runuser", ["-u", user, "--", "test", "-x", root]).ExitCode != 0)
            throw new InvalidOperationException(
                $"the {user} user cannot reach {root}: set LocalPostgres:DataDirectory to a folder it can reach");
        return user;
    }

    static async Task InitialiseAsync(
        string bin, string root, string data, string passwordFile, string? osUser, int port, Action<string> log)
    {
        log($"initialising a local PostgreSQL data folder in {data}");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);
        Directory.CreateDirectory(data);

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(passwordFile, password);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // initdb reads the password from a file the server's user can read; it is removed right after.
        var initPassword = Path.Combine(data, "..", "initdb.pw");
        await File.WriteAllTextAsync(initPassword, password);
        if (osUser is not null)
        {
            Chown(osUser, data);
            Chown(osUser, initPassword);
        }

        var init = Run(bin, "initdb", osUser, "-D", data, "-U", Role, "--pwfile", initPassword,
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8");
        File.Delete(initPassword);
        if (init.ExitCode != 0)
            throw new InvalidOperationException($"initdb failed: {init.Output}");

        // Loopback only, no Unix socket (the folder may not be reachable by other users), durable
        // commits (an acknowledged page must survive a crash), and room for bulk loads.
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

            # CohortSync's private server
            listen_addresses = '127.0.0.1'
            port = {port}
            unix_socket_directories = ''
            max_connections = 200
            shared_buffers = 512MB
            work_mem = 32MB
            maintenance_work_mem = 256MB
            max_wal_size = 4GB
            checkpoint_timeout = 15min
            fsync = on
            synchronous_commit = on
            """);
        if (osUser is not null)
            Chown(osUser, data);
    }

    static async Task CreateDatabaseIfMissingAsync(string serverConnectionString, string database)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.AddWithValue(database);
        if (await exists.ExecuteScalarAsync() is not null)
            return;
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", connection);
        try
        {
            await create.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another process created it first.
        }
    }

    static void Chown(string user, string path)
    {
        var result = Exec("chown", ["-R", $"{user}:{user}", path]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"chown {user} {path} failed: {result.Output}");
    }

    /// <summary>Runs a PostgreSQL program, as <paramref name="osUser"/> when given (the server must not run as root).</summary>
    static (int ExitCode, string Output) Run(string bin, string program, string? osUser, params string[] args) =>
        osUser is null
            ? Exec(Path.Combine(bin, program), args)
            : Exec("runuser", ["-u", osUser, "--", Path.Combine(bin, program), .. args]);

    static (int ExitCode, string Output) Exec(string file, string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        // pg_ctl leaves the server holding its own output: read until our child exits, not until EOF.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(5));
        var output = (stdout.IsCompleted ? stdout.Result : "") + (stderr.IsCompleted ? stderr.Result : "");
        return (process.ExitCode, output.Trim());
    }
}
