using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using GlmSharp.Tests.Support;
using GlmSharp.Tests.Vision;
using GlmSharp.Vision;
using OpenAI;
using OpenAI.Chat;
using SkiaSharp;
using AI = Microsoft.Extensions.AI;

namespace GlmSharp.Tests.Server;

/// <summary>
/// <c>image_url</c> and <c>video_url</c> parts in chat messages on a random GLM-4.1V model (GGUF text + mmproj) served
/// with continuous batching: an image data URL sent by the official OpenAI client is answered as libmtmd answers the same
/// prompt greedily; a file under --media-folder reads the same, for images and videos; paths out of the folder, remote
/// URLs, malformed data and the wrong media type are refused with 400s that name the field.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class ChatImageTests : IDisposable
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private const int NewTokens = 5;
    private const string ImageField = "messages[0].content[0].image_url";
    private const string VideoField = "messages[0].content[0].video_url";

    private readonly TempDirectory _dir = new();
    private readonly TinyGlm4vModel _model;
    private readonly LoadedModel _loaded;
    private readonly ImageEncoder _encoder;
    private readonly RgbImage _image = Glm4vOracleTests.Pattern(45, 30);
    private readonly byte[] _png;
    private readonly string _media;

    public ChatImageTests()
    {
        _model = TinyGlm4vModel.Write(_dir, Shape, seed: 21);
        _loaded = ModelLoader.Load(_model.TextGguf);
        _encoder = ImageEncoder.Open(_loaded, _model.Mmproj);
        var rgba = Glm4vOracleTests.ToRgba(_image);
        _png = TestImages.Encode(rgba.Width, rgba.Height, rgba.Pixels, SKEncodedImageFormat.Png);
        _media = Directory.CreateDirectory(_dir.File("media")).FullName;
        File.WriteAllBytes(Path.Combine(_media, "picture.png"), _png);
        File.WriteAllBytes(_dir.File("outside.png"), _png);
        // Four frames of 28 × 28, half a second each: two seconds sampled at 2 fps, two temporal patches.
        _gif = TestGif.Write(28, 28, [.. Enumerable.Range(0, 4).Select(f => Enumerable.Range(0, 28 * 28).Select(i => (byte)((i * 7 + f * 40) % 256)).ToArray())], delayCentiseconds: 50);
        File.WriteAllBytes(Path.Combine(_media, "clip.gif"), _gif);
    }

    private readonly byte[] _gif;

    public void Dispose()
    {
        _encoder.Dispose();
        _loaded.Dispose();
        _dir.Dispose();
    }

    private async Task<T> Serve<T>(Func<RunningServer, Task<T>> use, bool withImages = true)
    {
        using var batcher = new ContinuousBatcher(_loaded, new BatcherOptions { MaxSequences = 2, ContextLength = 1024, CachePositions = 2048 });
        await using var server = await RunningServer.Start(_loaded, batcher, images: withImages ? _encoder : null, mediaFolder: _media);
        return await use(server);
    }

    private static ChatClient Client(RunningServer server) =>
        new("glm-tiny-chat", new ApiKeyCredential("none"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") });

    private static readonly ChatCompletionOptions Greedy = new() { Temperature = 0, MaxOutputTokenCount = NewTokens };

    /// <summary>libmtmd's greedy reply to the image and "What is it?", trimmed as the reply parser trims every reply.</summary>
    private string LibMtmdAnswer()
    {
        // The tiny vocabulary has no chat template: GLM-4-0414's layout, the image part's placeholder before the text.
        var chain = LibMtmd.Greedy(_model.TextGguf, _model.Mmproj, [_image], "[gMASK]<sop><|user|>\n<__media__>What is it?<|assistant|>",
            _model.VocabSize, LlamaCppImageSizing.DefaultMaxTokens, NewTokens);
        int stop = Array.FindIndex(chain, _loaded.StopTokenIds.Contains);
        return _loaded.Tokenizer!.Decode(stop < 0 ? chain : chain[..stop], includeSpecial: false).Trim();
    }

    [Fact]
    public async Task Data_Url_From_The_OpenAI_Client_Is_Answered_As_LibMtmd_Answers()
    {
        string expected = LibMtmdAnswer();

        var completion = await Serve(async server => (ChatCompletion)await Client(server).CompleteChatAsync(
            [new UserChatMessage(ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(_png), "image/png"), ChatMessageContentPart.CreateTextPart("What is it?"))],
            Greedy));

        Assert.Equal(expected, completion.Content.Count == 0 ? "" : completion.Content[0].Text);
        int imageTokens = _encoder.TokenCount(Glm4vOracleTests.ToRgba(_image), "image");
        Assert.True(completion.Usage.InputTokenCount > imageTokens, $"{completion.Usage.InputTokenCount} prompt tokens for {imageTokens} image tokens");
    }

    [Fact]
    public async Task A_File_In_The_Media_Folder_Reads_As_The_Same_Image()
    {
        var (fromData, fromFile, fromPath) = await Serve(async server => (
            await Answer(server, $"data:image/png;base64,{Convert.ToBase64String(_png)}"),
            await Answer(server, new Uri(Path.Combine(_media, "picture.png")).AbsoluteUri),
            await Answer(server, "picture.png")));
        Assert.Equal(HttpStatusCode.OK, fromData.Status);
        Assert.Equal((fromData.Status, fromData.Body), (fromFile.Status, fromFile.Body));
        Assert.Equal((fromData.Status, fromData.Body), (fromPath.Status, fromPath.Body));
    }

    /// <summary>
    /// Image rows carry one token id for every image, so the prefix cache may keep only the text before the first image:
    /// a second request with the same image reuses that text and no more, and answers as the first did.
    /// </summary>
    [Fact]
    public async Task The_Prefix_Cache_Keeps_Only_The_Text_Before_An_Image()
    {
        string url = $"data:image/png;base64,{Convert.ToBase64String(_png)}";
        var (first, second) = await Serve(async server => (await Completion(server, url), await Completion(server, url)));
        int textBeforeImage = _loaded.Tokenizer!.Encode("[gMASK]<sop><|user|>\n" + ImagePrompt.BeginOfImage).Length;
        int cached = second.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        Assert.InRange(cached, 1, textBeforeImage);
        Assert.Equal(first.GetProperty("choices")[0].GetProperty("message").GetRawText(), second.GetProperty("choices")[0].GetProperty("message").GetRawText());
    }

    [Fact]
    public async Task A_Path_Out_Of_The_Media_Folder_Is_Refused() =>
        await AssertRefused("../outside.png", "is outside the media folder");

    [Fact]
    public async Task A_Link_Out_Of_The_Media_Folder_Is_Refused()
    {
        File.CreateSymbolicLink(Path.Combine(_media, "link.png"), _dir.File("outside.png"));
        await AssertRefused("link.png", "is outside the media folder");
    }

    [Fact]
    public async Task Malformed_Base64_Is_Refused() =>
        await AssertRefused("data:image/png;base64,not*base64!", "the data URL's base64 data is malformed");

    [Fact]
    public async Task A_Data_Url_That_Is_Not_An_Image_Is_Refused() =>
        await AssertRefused($"data:image/png;base64,{Convert.ToBase64String("not a picture"u8.ToArray())}", "not an image in a supported format");

    [Fact]
    public async Task Remote_Urls_Are_Not_Fetched() =>
        await AssertRefused("https://example.com/cat.png", "remote image URLs are not fetched by this server");

    [Fact]
    public async Task A_Model_Without_A_Vision_Tower_Refuses_Images()
    {
        var (status, body) = await Serve(server => Answer(server, $"data:image/png;base64,{Convert.ToBase64String(_png)}"), withImages: false);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("this model takes no images", body);
    }

    [Fact]
    public void Serve_Refuses_A_Media_Folder_That_Does_Not_Exist()
    {
        string missing = _dir.File("no-such-folder");
        var result = GlmCli.Run("serve", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--media-folder", missing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"--media-folder {missing}: no such folder", result.Stderr);
    }

    /// <summary>
    /// A video as a data:video/gif URL and as a file under the media folder is answered alike, and its rows (two temporal
    /// patches of 4 × 4 tokens, with their markers and timestamps) lengthen the prompt by more than its image tokens.
    /// </summary>
    [Fact]
    public async Task A_Video_Data_Url_And_The_Same_File_In_The_Media_Folder_Are_Answered_Alike()
    {
        var (fromData, fromFile, textOnly) = await Serve(async server => (
            await Completion(server, $"data:video/gif;base64,{Convert.ToBase64String(_gif)}", "video_url"),
            await Completion(server, "clip.gif", "video_url"),
            await Completion(server, null)));
        Assert.Equal(fromData.GetProperty("choices")[0].GetProperty("message").GetRawText(), fromFile.GetProperty("choices")[0].GetProperty("message").GetRawText());
        int PromptTokens(JsonElement completion) => completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.Equal(PromptTokens(fromData), PromptTokens(fromFile));
        Assert.True(PromptTokens(fromData) - PromptTokens(textOnly) > 2 * 4 * 4, $"{PromptTokens(fromData)} prompt tokens with the video, {PromptTokens(textOnly)} without");
    }

    [Theory]
    [InlineData("data:image/gif;base64,R0lG", "a data URL must be data:video/<type>;base64,<data>")]
    [InlineData("https://example.com/clip.mp4", "remote video URLs are not fetched by this server")]
    [InlineData("../outside.png", "is outside the media folder")]
    [InlineData("picture.png", "a still image")]
    [InlineData("data:video/gif;base64,not*base64!", "the data URL's base64 data is malformed")]
    public async Task A_Bad_Video_Url_Is_Refused_Naming_The_Field(string url, string message) =>
        await AssertRefused(url, message, "video_url");

    [Fact]
    public async Task A_Video_Part_Without_A_Url_Is_Refused()
    {
        var (status, body) = await Serve(async server =>
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var response = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                messages = new object[] { new { role = "user", content = new object[] { new { type = "video_url", video_url = new { path = "clip.gif" } } } } },
                max_tokens = 1,
            });
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"{VideoField} must be {{\"url\": \"…\"}}", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_Model_Without_A_Vision_Tower_Refuses_Videos()
    {
        var (status, body) = await Serve(server => Answer(server, $"data:video/gif;base64,{Convert.ToBase64String(_gif)}", "video_url"), withImages: false);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("this model takes no videos", body);
    }

    private static readonly AI.ChatOptions ClientGreedy = new() { Temperature = 0, MaxOutputTokens = NewTokens };

    /// <summary>The in-process IChatClient takes an image as DataContent, or as UriContent naming a file in the media folder.</summary>
    [Fact]
    public async Task The_Chat_Client_Answers_Image_Data_Content_As_LibMtmd_Answers_And_A_Media_File_Alike()
    {
        string expected = LibMtmdAnswer();
        using var batcher = new ContinuousBatcher(_loaded, new BatcherOptions { MaxSequences = 2, ContextLength = 1024, CachePositions = 2048 });
        using var client = new GlmChatClient(_loaded, batcher, _encoder, _media);

        var fromData = await client.GetResponseAsync([new AI.ChatMessage(AI.ChatRole.User, [new AI.DataContent(_png, "image/png"), new AI.TextContent("What is it?")])], ClientGreedy);
        var fromFile = await client.GetResponseAsync([new AI.ChatMessage(AI.ChatRole.User,
            [new AI.UriContent(new Uri(Path.Combine(_media, "picture.png")), "image/png"), new AI.TextContent("What is it?")])], ClientGreedy);

        Assert.Equal(expected, fromData.Text);
        Assert.Equal(expected, fromFile.Text);
    }

    public static TheoryData<string, string> BadClientContent => new()
    {
        { "pdf", "messages[0].contents[0]: media type 'application/pdf' is not an image" },
        { "system", "messages[0].contents[0]: images are accepted in user messages only" },
        { "remote", "messages[0].contents[0]: remote image URLs are not fetched" },
        { "outside", "messages[0].contents[0]: 'file://" },
        { "no tower", "messages[0].contents[0]: this model takes no images" },
    };

    [Theory]
    [MemberData(nameof(BadClientContent))]
    public async Task The_Chat_Client_Refuses_Bad_Image_Content_Naming_It(string kind, string message)
    {
        AI.AIContent image = kind switch
        {
            "pdf" => new AI.DataContent(_png, "application/pdf"),
            "remote" => new AI.UriContent(new Uri("https://example.com/cat.png"), "image/png"),
            "outside" => new AI.UriContent(new Uri(_dir.File("outside.png")), "image/png"),
            _ => new AI.DataContent(_png, "image/png"),
        };
        using var batcher = new ContinuousBatcher(_loaded, new BatcherOptions { MaxSequences = 1, ContextLength = 1024, CachePositions = 1024 });
        using var client = new GlmChatClient(_loaded, batcher, kind == "no tower" ? null : _encoder, _media);
        var role = kind == "system" ? AI.ChatRole.System : AI.ChatRole.User;

        var error = await Assert.ThrowsAsync<ApiError>(() => client.GetResponseAsync([new AI.ChatMessage(role, [image, new AI.TextContent("What is it?")])], ClientGreedy));

        Assert.StartsWith(message, error.Message);
        Assert.Equal("messages[0].contents[0]", error.Param);
        if (kind == "outside") Assert.Contains("is outside the media folder", error.Message);
    }

    private async Task AssertRefused(string url, string message, string kind = "image_url")
    {
        var (status, body) = await Serve(server => Answer(server, url, kind));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        using var error = JsonDocument.Parse(body);
        var e = error.RootElement.GetProperty("error");
        string field = kind == "image_url" ? ImageField : VideoField;
        Assert.StartsWith($"{field}: ", e.GetProperty("message").GetString());
        Assert.Contains(message, e.GetProperty("message").GetString());
        Assert.Equal(field, e.GetProperty("param").GetString());
    }

    private static async Task<JsonElement> Completion(RunningServer server, string? url, string kind = "image_url")
    {
        var response = await Post(server, url, kind);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    /// <summary>One greedy request over raw HTTP; the answer's message (ids and timestamps differ per request), or the error body.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> Answer(RunningServer server, string url, string kind = "image_url")
    {
        var response = await Post(server, url, kind);
        string body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.OK)
        {
            using var json = JsonDocument.Parse(body);
            body = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetRawText();
        }
        return (response.StatusCode, body);
    }

    /// <summary>
    /// The image (or with <paramref name="kind"/> video_url, the video) first, then the question, as OpenAI's schema writes
    /// a user message with parts; the question alone when <paramref name="url"/> is null.
    /// </summary>
    private static async Task<HttpResponseMessage> Post(RunningServer server, string? url, string kind = "image_url")
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var question = new { type = "text", text = "What is it?" };
        object[] content = url is null ? [question]
            : kind == "image_url" ? [new { type = "image_url", image_url = new { url } }, question]
            : [new { type = "video_url", video_url = new { url } }, question];
        return await http.PostAsJsonAsync("/v1/chat/completions", new
        {
            messages = new object[] { new { role = "user", content } },
            temperature = 0,
            max_tokens = NewTokens,
        });
    }
}
