using System.Net;
using CohortSync.Host.Tests.Infrastructure;

namespace CohortSync.Host.Tests.Security;

/// <summary>
/// Credentials from a key-per-file folder (container secrets), and rotation with no downtime: two
/// passwords of one user name, or two API keys, valid side by side.
/// </summary>
[Collection(HostCollection.Name)]
public sealed class SecretsAndRotationTests(HostFixture fx)
{
    [Fact]
    public async Task Credentials_and_keys_are_read_from_files_in_the_secrets_folder()
    {
        var folder = Directory.CreateTempSubdirectory("cohortsync-secrets-").FullName;
        try
        {
            // As `echo secret > file` writes them: the trailing newline is not part of the value.
            await File.WriteAllTextAsync(Path.Combine(folder, "Webhook__Credentials__0__Username"), "from-file\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "Webhook__Credentials__0__Password"), "file-password\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "Api__Keys__0__Key"), "file-key\n");
            await using var host = await fx.StartHostAsync(new Dictionary<string, string?>
            {
                ["Webhook:AllowAnonymous"] = "false",
                ["Api:AllowAnonymous"] = "false",
                ["Secrets:Directory"] = folder,
            }, environment: "Production");

            var c = TestCohort.New("secrets");
            await host.Client.PostOkAsync(c.Members("s1", 1, 1, "a"), WebhookClient.Basic("from-file", "file-password"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.PostAsync(c.Members("s2", 1, 1, "b"), WebhookClient.Basic("from-file", "file-password\n"))).Status);
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts?limit=1", "file-key")).Status);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_secrets_folder_that_does_not_exist_stops_the_start()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"cohortsync-no-secrets-{Guid.NewGuid():N}");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => fx.StartHostAsync(new Dictionary<string, string?> { ["Secrets:Directory"] = missing }));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public async Task Two_passwords_of_one_user_name_are_valid_side_by_side_and_the_old_one_ends_with_its_entry()
    {
        var c = TestCohort.New("rotate-webhook");
        // Step 1: the new password is added beside the old one.
        await using (var both = await SecuredHosts.StartAsync(fx,
                         ("Webhook:Credentials:1:Username", SecuredHosts.Username), ("Webhook:Credentials:1:Password", "new-password")))
        {
            await both.Client.PostOkAsync(c.Members("s1", 1, 1, "a"), SecuredHosts.Right);
            await both.Client.PostOkAsync(c.Members("s2", 1, 1, "b"), WebhookClient.Basic(SecuredHosts.Username, "new-password"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await both.Client.PostAsync(c.Members("s3", 1, 1, "c"), WebhookClient.Basic(SecuredHosts.Username, "other"))).Status);
        }
        // Step 3: once Mixpanel sends the new one, the old entry is removed.
        await using var after = await SecuredHosts.StartAsync(fx, ("Webhook:Credentials:0:Password", "new-password"));
        await after.Client.PostOkAsync(c.Members("s4", 1, 1, "d"), WebhookClient.Basic(SecuredHosts.Username, "new-password"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await after.Client.PostAsync(c.Members("s5", 1, 1, "e"), SecuredHosts.Right)).Status);
    }

    [Fact]
    public async Task Two_api_keys_are_valid_side_by_side()
    {
        await using var host = await SecuredHosts.StartAsync(fx, ("Api:Keys:1:Key", "api-key-next"));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts?limit=1", SecuredHosts.ApiKey)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetApiAsync("/v1/cohorts?limit=1", "api-key-next")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.GetApiAsync("/v1/cohorts?limit=1", "api-key-old")).Status);
    }
}
