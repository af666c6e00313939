using Microsoft.Playwright;

namespace CohortSync.Host.Tests.Infrastructure;

/// <summary>
/// Debian's headless chromium (installed when missing), driven by Playwright's driver from its NuGet
/// package; Playwright never downloads a browser here. <c>CHROMIUM</c> names another executable. Screenshots go to
/// <see cref="ScreenshotFolder"/>.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    IPlaywright? playwright;
    IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("the browser has not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            Install();
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Tests run as root in CI, where chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    /// <summary>
    /// The README's test command works on a fresh machine, as the private PostgreSQL's provisioning does:
    /// as root, Debian's chromium package is installed when missing.
    /// </summary>
    static void Install()
    {
        if (Environment.UserName != "root" || ExecutablePath != "/usr/bin/chromium")
            throw new InvalidOperationException($"no chromium at {ExecutablePath}: run `sudo apt-get install -y chromium`");
        var info = new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList =
            {
                "-c",
                "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var install = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start apt-get");
        var output = install.StandardOutput.ReadToEndAsync();
        var errors = install.StandardError.ReadToEndAsync();
        install.WaitForExit();
        if (install.ExitCode != 0 || !File.Exists(ExecutablePath))
            throw new InvalidOperationException($"installing chromium failed: {errors.Result}{output.Result}");
    }

    /// <summary>A fresh browser context (own cookies) with one page, at a desktop or a phone's width.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        return await context.NewPageAsync();
    }

    /// <summary>Saves a full-page screenshot and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
            await browser.DisposeAsync();
        playwright?.Dispose();
    }
}
