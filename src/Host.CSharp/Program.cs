using CohortSync.Host;

// `migrate` applies the db/ migrations and exits; anything else runs the service.
var migrateOnly = args.Length > 0 && args[0] == "migrate";
var app = await CohortSyncApp.BuildAsync(migrateOnly ? args[1..] : args);
if (!migrateOnly)
    await app.RunAsync();
return 0;
