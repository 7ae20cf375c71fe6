using GlmSharp.Models;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Server;

/// <summary>
/// The chat page at `/` in a real headless Chromium: a reply streams in with its reasoning folded away and its tool call
/// shown; the stop button ends a reply mid-stream. Screenshots are kept under the test output for a look.
/// </summary>
[Trait("Browser", "chromium")]
public sealed class ChatPageTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    private static ChromeDriver Browser()
    {
        var options = new ChromeOptions { BinaryLocation = BrowserFactAttribute.Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,700");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(BrowserFactAttribute.ChromeDriver)!, Path.GetFileName(BrowserFactAttribute.ChromeDriver));
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    [BrowserFact]
    public async Task A_Reply_Streams_In_With_Reasoning_Folded_And_A_Tool_Call_Shown()
    {
        using var engine = new ScriptedEngine("<think>The user says hello.</think>Hello from GLM!<tool_call>get_time</tool_call>");
        await using var server = await RunningServer.Start(_model, engine);
        using var browser = Browser();
        browser.Navigate().GoToUrl(server.BaseAddress);
        browser.FindElement(By.Id("input")).SendKeys("Hi there");
        browser.FindElement(By.Id("send")).Click();
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(20));
        wait.Until(b => b.FindElements(By.CssSelector(".assistant .status")).Any(s => s.Text.StartsWith("finished", StringComparison.Ordinal)));

        var reply = browser.FindElement(By.CssSelector(".assistant"));
        Assert.Equal("Hello from GLM!", reply.FindElement(By.CssSelector(".content")).Text);
        Assert.Equal("→ get_time({})", reply.FindElement(By.CssSelector(".tool")).Text);
        Assert.Equal("finished: tool_calls", reply.FindElement(By.CssSelector(".status")).Text);
        var reasoning = reply.FindElement(By.CssSelector("details.reasoning"));
        Assert.Null(reasoning.GetAttribute("open"));
        reasoning.FindElement(By.TagName("summary")).Click();
        Assert.Contains("The user says hello.", reasoning.Text);
        Assert.Equal("Hi there", browser.FindElement(By.CssSelector(".user")).Text);
        Assert.Equal("glm-tiny-chat", browser.FindElement(By.Id("model")).Text);
        Save(browser, "chat-page-reply.png");
    }

    [BrowserFact]
    public async Task The_Stop_Button_Ends_A_Reply_Mid_Stream()
    {
        using var engine = new ScriptedEngine(string.Concat(Enumerable.Repeat("word ", 4000))) { Delay = TimeSpan.FromMilliseconds(20) };
        await using var server = await RunningServer.Start(_model, engine);
        using var browser = Browser();
        browser.Navigate().GoToUrl(server.BaseAddress);
        browser.FindElement(By.Id("input")).SendKeys("Talk a lot");
        browser.FindElement(By.Id("send")).Click();
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(20));
        wait.Until(b => b.FindElements(By.CssSelector(".assistant .content")).Any(c => c.Text.Length > 20));
        browser.FindElement(By.Id("stop")).Click();
        wait.Until(b => b.FindElement(By.CssSelector(".assistant .status")).Text == "stopped");
        Assert.True(browser.FindElement(By.Id("send")).Enabled);
        Assert.True(browser.FindElement(By.CssSelector(".assistant .content")).Text.Length < 4000 * 5);
        Save(browser, "chat-page-stopped.png");
    }

    private void Save(ChromeDriver browser, string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "screenshots", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        browser.GetScreenshot().SaveAsFile(path);
        output.WriteLine($"screenshot: {path}");
    }
}
