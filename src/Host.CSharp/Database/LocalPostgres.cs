using System.Diagnostics;
using System.Security.Cryptography;
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

        var osUser = Environment.UserName == "root" ? ServerUser() : null;
        var data = DataDirectory(root, osUser, log);
        var bin = FindBinaries(ClusterVersion(data)) ?? InstallPostgres(log);
        var passwordFile = Path.Combine(root, "password");

        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
            await InitialiseAsync(bin, data, passwordFile, osUser, log);

        var password = (await File.ReadAllTextAsync(passwordFile)).Trim();
        var port = RunningPort(data);
        if (port is null || Run(bin, "pg_ctl", osUser, "-D", data, "status").ExitCode != 0)
            port = Start(bin, data, osUser, options.Port, Path.Combine(root, "port"), log);

        var server = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port.Value, Username = Role, Password = password, Database = "postgres",
        };
        await CreateDatabaseIfMissingAsync(server.ConnectionString, database);
        server.Database = database;
        return server.ConnectionString;
    }

    /// <summary>
    /// Starts the server on the configured port, else on this checkout's own port (kept in
    /// <paramref name="portFile"/>, chosen free the first time): two checkouts on one machine then run
    /// their servers side by side. When another process took our own port meanwhile, a new one is chosen.
    /// </summary>
    static int Start(string bin, string data, string? osUser, int? configured, string portFile, Action<string> log)
    {
        var port = configured ?? ReadPort(portFile) ?? FreePort();
        for (var attempt = 1; ; attempt++)
        {
            if (configured is null)
                File.WriteAllText(portFile, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            log($"starting the local PostgreSQL in {data} on 127.0.0.1:{port}");
            var start = Run(bin, "pg_ctl", osUser, "-D", data, "-l", Path.Combine(data, "server.log"), "-w", "-t", "120",
                "-o", $"-p {port}", "start");
            if (start.ExitCode == 0)
                return port;
            if (!PortTaken(data))
                throw new InvalidOperationException($"the local PostgreSQL did not start (see {Path.Combine(data, "server.log")}): {start.Output}");
            if (configured is not null || attempt == 3)
                throw new InvalidOperationException(
                    $"the local PostgreSQL did not start: 127.0.0.1:{port} is already in use (another program's " +
                    "server, perhaps: stop it, or set LocalPostgres:Port to a free port)");
            port = FreePort();
        }
    }

    /// <summary>Stops the private server of <paramref name="options"/>'s data folder, if it runs.</summary>
    internal static void Stop(LocalPostgresOptions options)
    {
        var root = Path.GetFullPath(options.DataDirectory ?? DefaultDirectory());
        var osUser = Environment.UserName == "root" ? ServerUser() : null;
        var data = DataDirectory(root, osUser, _ => { });
        if (FindBinaries(ClusterVersion(data)) is { } bin && File.Exists(Path.Combine(data, "postmaster.pid")))
            Run(bin, "pg_ctl", osUser, "-D", data, "-m", "fast", "-w", "stop");
    }

    /// <summary>The port a running server listens on: the fourth line of its <c>postmaster.pid</c>.</summary>
    static int? RunningPort(string data)
    {
        var pidFile = Path.Combine(data, "postmaster.pid");
        try
        {
            var lines = File.Exists(pidFile) ? File.ReadLines(pidFile).Take(4).ToList() : [];
            return lines.Count == 4 && int.TryParse(lines[3], out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    static int? ReadPort(string portFile) =>
        File.Exists(portFile) && int.TryParse(File.ReadAllText(portFile).Trim(), out var port) ? port : null;

    /// <summary>A port nobody listens on now (the kernel's choice for a listener on port 0).</summary>
    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>True when the server's last start failed to bind its port (the log is the only place that says so).</summary>
    static bool PortTaken(string data)
    {
        var logFile = Path.Combine(data, "server.log");
        if (!File.Exists(logFile))
            return false;
        var tail = File.ReadLines(logFile).TakeLast(20);
        return tail.Any(line => line.Contains("Address already in use", StringComparison.Ordinal));
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

    /// <summary>The server's binaries: those of the version that made the data folder, else the newest.</summary>
    static string? FindBinaries(string? clusterVersion) =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "postgres")) && File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => Path.GetFileName(Path.GetDirectoryName(b)) == clusterVersion)
                .ThenByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    static string? ClusterVersion(string data)
    {
        var file = Path.Combine(data, "PG_VERSION");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    static string InstallPostgres(Action<string> log)
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException(
                "PostgreSQL is not installed: run `sudo apt-get install -y postgresql`, or set ConnectionStrings__CohortSync");
        log("PostgreSQL binaries are missing: installing the Debian postgresql package");
        var install = Exec("/bin/sh", ["-c",
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q -o DPkg::Lock::Timeout=600 postgresql"]);
        if (install.ExitCode != 0)
            throw new InvalidOperationException($"apt-get install postgresql failed: {install.Output}");
        return FindBinaries(null) ?? throw new InvalidOperationException("postgresql installed, but its binaries were not found");
    }

    /// <summary>
    /// The non-root account the server runs as when we are root: Debian's <c>postgres</c> (created
    /// with the package, or here if missing).
    /// </summary>
    static string ServerUser()
    {
        const string user = "postgres";
        if (Exec("id", ["-u", user]).ExitCode != 0)
        {
            var add = Exec("useradd", ["--system", "--user-group", "--home-dir", "/var/lib/postgresql", "--shell", "/bin/bash", user]);
            if (add.ExitCode != 0)
                throw new InvalidOperationException($"could not create the {user} user: {add.Output}");
        }
        return user;
    }

    /// <summary>
    /// The data folder: in <paramref name="root"/>, unless the server's user cannot reach it (a
    /// checkout under /root, mode 700); then in /var/lib/cohortsync, one folder per checkout.
    /// </summary>
    static string DataDirectory(string root, string? osUser, Action<string> log)
    {
        if (osUser is null || Exec("runuser", ["-u", osUser, "--", "test", "-x", root]).ExitCode == 0)
            return Path.Combine(root, "data");
        var key = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..16].ToLowerInvariant();
        var data = Path.Combine("/var/lib/cohortsync", key, "data");
        log($"the {osUser} user cannot reach {root}: its data folder is {data}");
        return data;
    }

    /// <summary>Writes a file only its owner can read, from the moment it exists.</summary>
    static async Task WriteSecretAsync(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(text);
    }

    static async Task InitialiseAsync(
        string bin, string data, string passwordFile, string? osUser, Action<string> log)
    {
        log($"initialising a local PostgreSQL data folder in {data}");
        if (Directory.Exists(data))
            Directory.Delete(data, recursive: true);
        Directory.CreateDirectory(data);

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await WriteSecretAsync(passwordFile, password);
        // initdb reads the password from a file the server's user can read; it is removed right after.
        var initPassword = Path.Combine(Path.GetDirectoryName(data)!, "initdb.pw");
        await WriteSecretAsync(initPassword, password);
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
        // commits (an acknowledged page must survive a crash), and room for bulk loads. The port is
        // given at each start (see Start), so that a checkout can move off a port another one took.
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

            # CohortSync's private server
            listen_addresses = '127.0.0.1'
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
