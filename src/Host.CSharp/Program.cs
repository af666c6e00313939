using CohortSync.Host;
using CohortSync.Host.Bench;
using CohortSync.Host.Simulate;

// `simulate` plays Mixpanel against a running service: it needs none of the service's own set-up.
if (args.Length > 0 && args[0] == "simulate")
    return await SimulateCommand.RunAsync(args[1..], Console.Out, Console.Error);

// bench/run's tools: they read the service's configuration, but run no service.
if (args.Length > 0 && BenchCommands.Names.Contains(args[0]))
    return await BenchCommands.RunAsync(args, Console.Out, Console.Error);

// `migrate` applies the db/ migrations and exits; anything else runs the service.
var migrateOnly = args.Length > 0 && args[0] == "migrate";
var app = await CohortSyncApp.BuildAsync(migrateOnly ? args[1..] : args);
if (!migrateOnly)
    await app.RunAsync();
return 0;
