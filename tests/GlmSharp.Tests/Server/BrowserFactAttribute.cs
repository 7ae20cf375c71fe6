namespace GlmSharp.Tests.Server;

/// <summary>
/// A test that drives Debian's headless Chromium through its chromedriver. Where they are not installed it is skipped,
/// saying so: `.ci/run` installs them (apt-get install chromium chromium-driver).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium", ChromeDriver = "/usr/bin/chromedriver";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
            Skip = $"needs Debian's chromium and chromium-driver ({Chromium}, {ChromeDriver}); `apt-get install chromium chromium-driver`, as .ci/run does";
    }
}
