using CohortSync.Simulate;

namespace CohortSync.Host.Tests.Simulate;

/// <summary>Bad command lines exit 2 with a message naming the option, before anything is sent.</summary>
public sealed class SimulateOptionTests
{
    [Theory]
    [InlineData("--cohorts abc", "--cohorts")]
    [InlineData("--no-such-option", "--no-such-option")]
    [InlineData("--cohorts 0", "--cohorts must be between 1 and 10000")]
    [InlineData("--cohorts 10001", "--cohorts must be between 1 and 10000")]
    [InlineData("--syncs 100001", "--syncs must be between 1 and 100000")]
    [InlineData("--concurrency 257", "--concurrency must be between 1 and 256")]
    [InlineData("--in-flight 257", "--in-flight must be between 1 and 256")]
    [InlineData("--churn 1.5", "--churn must be between 0 and 1")]
    [InlineData("--fault-rate -0.1", "--fault-rate must be between 0 and 1")]
    [InlineData("--time-scale -1", "--time-scale must be 0 or more")]
    [InlineData("--page-size 0", "--page-size must be between 1 and 10000")]
    [InlineData("--page-size 10001", "--page-size must be between 1 and 10000")]
    [InlineData("--read-limit 0", "--read-limit must be between 1 and 10000")]
    [InlineData("--url ftp://example/webhook", "--url must be an absolute http:// or https:// URL")]
    [InlineData("--username mixpanel", "--username needs a password")]
    [InlineData("--password p", "--password needs --username")]
    [InlineData("--user no-colon", "--user must be name:password")]
    [InlineData("--user a:b --username a", "--user cannot be combined")]
    [InlineData("--json /no/such/folder/summary.json", "--json: folder /no/such/folder does not exist")]
    public async Task Bad_options_exit_2_with_a_clear_message(string args, string message)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await SimulateCommand.RunAsync(args.Split(' '), output, error, _ => null);

        Assert.Equal(ExitCodes.BadOptions, exit);
        Assert.Contains(message, error.ToString());
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task Every_problem_is_reported_at_once_and_a_password_is_never_echoed()
    {
        var error = new StringWriter();

        var exit = await SimulateCommand.RunAsync(
            ["--syncs", "0", "--concurrency", "0", "--user", "name-without-colon-s3cret"], TextWriter.Null, error, _ => null);

        Assert.Equal(ExitCodes.BadOptions, exit);
        Assert.Contains("--syncs must be between 1 and 100000", error.ToString());
        Assert.Contains("--concurrency must be between 1 and 256", error.ToString());
        Assert.DoesNotContain("s3cret", error.ToString());
    }

    [Theory]
    [InlineData("--url", "http://mixpanel:s3cret@127.0.0.1:9/webhook", "--url must not carry credentials")]
    [InlineData("--api-url", "http://reader:s3cret@127.0.0.1:9/", "--api-url must not carry credentials")]
    [InlineData("--url", "ftp://mixpanel:s3cret@127.0.0.1:9/webhook", "--url must be an absolute http:// or https:// URL")]
    public async Task Credentials_in_a_url_are_refused_and_never_echoed(string option, string url, string message)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // The other URL is a closed port: had the run started, it would have ended with exit code 3.
        string[] args = option == "--url" ? [option, url] : ["--url", "http://127.0.0.1:9/webhook", option, url];
        var exit = await SimulateCommand.RunAsync([.. args, "--timeout", "1", "--time-scale", "0"], output, error, _ => null);

        Assert.Equal(ExitCodes.BadOptions, exit);
        Assert.Contains(message, error.ToString());
        Assert.DoesNotContain("s3cret", output.ToString() + error);
        if (message.Contains("credentials"))
            Assert.Contains(SimulateCommand.PasswordVariable, error.ToString());
    }

    [Fact]
    public async Task A_json_path_that_cannot_be_written_exits_2_before_anything_is_sent()
    {
        var folder = Directory.CreateTempSubdirectory("simulate-json-");
        try
        {
            var error = new StringWriter();
            // The webhook is a closed port: had the run started, it would have ended with exit code 3.
            var exit = await SimulateCommand.RunAsync(
                ["--json", folder.FullName, "--url", "http://127.0.0.1:9/webhook", "--timeout", "1", "--time-scale", "0"],
                TextWriter.Null, error, _ => null);

            Assert.Equal(ExitCodes.BadOptions, exit);
            Assert.Contains($"--json: {folder.FullName} is a folder, not a file", error.ToString());

            // Trying the file for writing leaves nothing behind.
            var summary = Path.Combine(folder.FullName, "summary.json");
            Assert.Equal(ExitCodes.BadOptions, await SimulateCommand.RunAsync(["--json", summary, "--cohorts", "0"], TextWriter.Null, TextWriter.Null, _ => null));
            Assert.False(File.Exists(summary));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_summary_that_cannot_be_written_after_the_run_is_said_and_success_becomes_exit_5()
    {
        var folder = Directory.CreateTempSubdirectory("simulate-json-");
        try
        {
            var error = new StringWriter();

            Assert.False(await SimulateCommand.TryWriteJsonAsync(folder.FullName, "{}", error, CancellationToken.None));
            Assert.Contains($"simulate: could not write the summary to {folder.FullName}", error.ToString());
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        Assert.Equal(ExitCodes.SummaryNotWritten, ExitCodes.WithSummaryNotWritten(ExitCodes.Converged));
        foreach (var verdict in new[] { ExitCodes.Diverged, ExitCodes.NotChecked, ExitCodes.Paused })
            Assert.Equal(verdict, ExitCodes.WithSummaryNotWritten(verdict));
    }

    [Fact]
    public async Task Help_lists_the_options_and_exits_0()
    {
        var output = new StringWriter();

        var exit = await SimulateCommand.RunAsync(["--help"], output, TextWriter.Null, _ => null);

        Assert.Equal(0, exit);
        foreach (var option in new[] { "--url", "--fault-rate", "--duplicate-rate", "--time-scale", "--seed", "--json", "--api-key" })
            Assert.Contains(option, output.ToString());
    }
}
