using CohortSync.Simulate;
using CohortSync.Simulate.Bench;

// `simulate` plays Mixpanel against a running service; the other commands are bench/run's tools.
if (args.Length > 0 && args[0] == "simulate")
    return await SimulateCommand.RunAsync(args[1..], Console.Out, Console.Error);

if (args.Length > 0 && BenchCommands.Names.Contains(args[0]))
    return await BenchCommands.RunAsync(args, Console.Out, Console.Error);

await Console.Error.WriteLineAsync($"usage: CohortSync.Simulate simulate|{string.Join('|', BenchCommands.Names)} [options] (--help after a command lists its options)");
return ExitCodes.BadOptions;
