using System.ClientModel;
using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using Microsoft.Extensions.AI;
using OpenAI;

namespace GlmSharp.Tests.Server;

/// <summary>
/// Microsoft.Extensions.AI: <see cref="GlmChatClient"/> in process, and `glm serve` through
/// Microsoft.Extensions.AI.OpenAI, give the same answers; tools run through M.E.AI's function invocation.
/// </summary>
public sealed class ChatClientTests : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    [Fact]
    public async Task In_Process_And_Over_Http_The_Same_Greedy_Answer_Whole_And_Streamed()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 1024 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var local = new GlmChatClient(_model, batcher);
        IChatClient remote = new OpenAIClient(new ApiKeyCredential("none"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") })
            .GetChatClient("glm-tiny-chat").AsIChatClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };
        ChatMessage[] messages = [new(ChatRole.User, "Tell me something about the sea.")];

        var inProcess = await local.GetResponseAsync(messages, options);
        var overHttp = await remote.GetResponseAsync(messages, options);
        var streamed = string.Concat(await local.GetStreamingResponseAsync(messages, options).Select(u => u.Text).ToListAsync());

        Assert.Equal(overHttp.Text, inProcess.Text);
        Assert.Equal(inProcess.Text, streamed);
        Assert.Equal(overHttp.FinishReason, inProcess.FinishReason);
        Assert.Equal(overHttp.Usage!.InputTokenCount, inProcess.Usage!.InputTokenCount);
        Assert.Equal(overHttp.Usage.OutputTokenCount, inProcess.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task A_Tool_Is_Called_With_Typed_Arguments_And_Its_Result_Goes_Back_To_The_Model()
    {
        using var engine = new ScriptedEngine(
            "<think>I need the weather.</think><tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
            "It will be sunny in Paris.");
        var calls = new List<(string City, int Days)>();
        var weather = AIFunctionFactory.Create((string city, int days) =>
        {
            calls.Add((city, days));
            return "sunny";
        }, "get_weather", "Weather forecast for a city");
        using var client = new ChatClientBuilder(new GlmChatClient(_model, engine)).UseFunctionInvocation().Build();

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather in Paris?")], new ChatOptions { Tools = [weather] });

        Assert.Equal([("Paris", 3)], calls);
        Assert.Equal("It will be sunny in Paris.", response.Text);
        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        Assert.Equal(3, ((JsonElement)call.Arguments!["days"]!).GetInt32());
        Assert.Contains(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>(), r => r.Text == "I need the weather.");
        string secondPrompt = _model.Tokenizer!.Decode(engine.Prompts[1].ToArray());
        Assert.Contains("<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>", secondPrompt);
        Assert.Contains("<tool_response>\nsunny\n</tool_response>", secondPrompt);
    }
}
