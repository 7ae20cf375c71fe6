using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Serving;
using OpenAI;
using OpenAI.Chat;

namespace GlmSharp.Tests.Server;

/// <summary>
/// `POST /v1/chat/completions` driven by the official OpenAI .NET client: the shipped model served through continuous
/// batching, whole and streamed; tool calls and reasoning from scripted replies; refusals as OpenAI error bodies.
/// </summary>
public sealed class ChatCompletionsTests : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    private static ChatClient Client(RunningServer server, string key = "none") =>
        new("glm-tiny-chat", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") });

    private static readonly ChatCompletionOptions Greedy = new() { Temperature = 0, MaxOutputTokenCount = 24 };

    [Fact]
    public async Task The_Shipped_Model_Answers_Whole_And_Streamed_Alike()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 4, ContextLength = 1024 });
        await using var server = await RunningServer.Start(_model, batcher);
        var client = Client(server);
        ChatMessage[] messages = [new SystemChatMessage("You are helpful."), new UserChatMessage("Tell me a fortune.")];

        ChatCompletion whole = await client.CompleteChatAsync(messages, Greedy);
        var streamed = new StringBuilder();
        ChatFinishReason? streamedFinish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, Greedy))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            streamedFinish ??= update.FinishReason;
        }

        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        Assert.Equal(whole.Content.Count == 0 ? "" : whole.Content[0].Text, streamed.ToString());
        Assert.Equal(whole.FinishReason, streamedFinish);
        Assert.True(whole.Usage.InputTokenCount > 10, $"{whole.Usage.InputTokenCount} prompt tokens");
        Assert.InRange(whole.Usage.OutputTokenCount, 1, 24);
        Assert.Equal(whole.Usage.InputTokenCount + whole.Usage.OutputTokenCount, whole.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Log_Probabilities_Come_For_Every_Token_Whole_And_Streamed()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 1024 });
        await using var server = await RunningServer.Start(_model, batcher);
        var client = Client(server);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 16, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };
        ChatMessage[] messages = [new UserChatMessage("Tell me a fortune.")];

        ChatCompletion whole = await client.CompleteChatAsync(messages, options);
        Assert.Equal(whole.Usage.OutputTokenCount, whole.ContentTokenLogProbabilities.Count);
        foreach (var token in whole.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, token.TopLogProbabilities.Count);
            // Greedy: the drawn token is the most likely one.
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability);
            Assert.InRange(token.LogProbability, float.NegativeInfinity, 0f);
            Assert.Equal(token.Token, Encoding.UTF8.GetString(token.Utf8Bytes!.Value.Span));
        }

        var streamed = new List<ChatTokenLogProbabilityDetails>();
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options)) streamed.AddRange(update.ContentTokenLogProbabilities);
        Assert.Equal(whole.ContentTokenLogProbabilities.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));
    }

    /// <summary>The reply is a JSON object, or the start of one where max_tokens cut it (the shipped model likes long strings).</summary>
    [Fact]
    public async Task A_Json_Object_Response_Format_Gives_A_Json_Object()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 1024 });
        await using var server = await RunningServer.Start(_model, batcher);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 200, ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat() };

        ChatCompletion reply = await Client(server).CompleteChatAsync([new UserChatMessage("Reply in JSON: what is the weather?")], options);

        string text = reply.Content[0].Text;
        var prefix = new GlmSharp.Inference.JsonPrefix();
        Assert.True(prefix.Push(Encoding.UTF8.GetBytes(text)), $"not the start of a JSON object: {text}");
        if (reply.FinishReason == ChatFinishReason.Stop) Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(text).RootElement.ValueKind);
        else Assert.Equal(200, reply.Usage.OutputTokenCount);
    }

    /// <summary>A second conversation with the same long system message reports the prompt tokens it took from the prefix cache.</summary>
    [Fact]
    public async Task Usage_Reports_Prompt_Tokens_Reused_From_Earlier_Requests()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 1024 });
        await using var server = await RunningServer.Start(_model, batcher);
        var client = Client(server);
        var system = new SystemChatMessage(string.Concat(Enumerable.Repeat("You are a patient and helpful assistant who answers in short sentences. ", 8)));

        ChatCompletion first = await client.CompleteChatAsync([system, new UserChatMessage("Tell me a fortune.")], Greedy);
        ChatCompletion second = await client.CompleteChatAsync([system, new UserChatMessage("What is the weather?")], Greedy);

        Assert.Equal(0, first.Usage.InputTokenDetails.CachedTokenCount);
        Assert.InRange(second.Usage.InputTokenDetails.CachedTokenCount, 64, second.Usage.InputTokenCount - 1);
    }

    [Fact]
    public async Task A_Tool_Call_Round_Trip_With_Typed_Arguments()
    {
        using var engine = new ScriptedEngine("<think>The user wants the weather.</think>\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>");
        await using var server = await RunningServer.Start(_model, engine);
        var client = Client(server);
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather forecast for a city", BinaryData.FromString(
            """{"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        var messages = new List<ChatMessage> { new UserChatMessage("Weather in Paris for 3 days?") };

        ChatCompletion first = await client.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Paris","days":3}""", call.FunctionArguments.ToString());

        var streamedName = new StringBuilder();
        var streamedArguments = new StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
            foreach (var part in update.ToolCallUpdates)
            {
                streamedName.Append(part.FunctionName);
                streamedArguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }
        Assert.Equal("get_weather", streamedName.ToString());
        Assert.Equal("""{"city":"Paris","days":3}""", streamedArguments.ToString());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"forecast": "sunny"}"""));
        await client.CompleteChatAsync(messages, options);
        string prompt = _model.Tokenizer!.Decode(engine.Prompts[^1].ToArray());
        // The tool exactly as the client sent it, in the template's JSON style (", " and ": "), one line between the tags.
        Assert.Matches("<tools>\n\\{[^\n]*\"name\": \"get_weather\"[^\n]*\"properties\": \\{\"city\": \\{\"type\": \"string\"\\}[^\n]*\n</tools>", prompt);
        Assert.Contains("<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>", prompt);
        Assert.Contains("<|observation|>\n<tool_response>\n{\"forecast\": \"sunny\"}\n</tool_response><|assistant|>", prompt);
    }

    [Fact]
    public async Task Reasoning_Comes_As_Reasoning_Content_Whole_And_Streamed()
    {
        using var engine = new ScriptedEngine("<think>\nTwo and two make four.\n</think>\nIt is 4.");
        await using var server = await RunningServer.Start(_model, engine);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var body = new { messages = new[] { new { role = "user", content = "2+2?" } } };
        using var whole = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/chat/completions", body)).Content.ReadAsStringAsync());
        var message = whole.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Two and two make four.", message.GetProperty("reasoning_content").GetString());
        Assert.Equal("It is 4.", message.GetProperty("content").GetString());

        var events = await (await http.PostAsJsonAsync("/v1/chat/completions", new { body.messages, stream = true })).Content.ReadAsStringAsync();
        var deltas = events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).TakeWhile(e => e != "[DONE]")
            .Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta")).ToArray();
        Assert.Equal("Two and two make four.", string.Concat(deltas.Select(d => d.TryGetProperty("reasoning_content", out var r) ? r.GetString() : "")));
        Assert.Equal("It is 4.", string.Concat(deltas.Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : "")));
        Assert.DoesNotContain("think>", events);
    }

    [Theory]
    [InlineData("{not json", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"messages": []}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}""", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "temperature": 7}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"messages": [{"role": "wizard", "content": "hi"}]}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 21}""", HttpStatusCode.BadRequest, "invalid_request_error")]
    public async Task Bad_Requests_Get_An_Error_Body_Naming_The_Problem(string body, HttpStatusCode status, string type)
    {
        using var engine = new ScriptedEngine("unused");
        await using var server = await RunningServer.Start(_model, engine);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(type, error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.NotEmpty(error.RootElement.GetProperty("error").GetProperty("message").GetString()!);
        Assert.Empty(engine.Prompts);
    }

    [Fact]
    public async Task A_Prompt_Over_The_Context_Is_400_Naming_The_Limit()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 1, ContextLength = 32 });
        await using var server = await RunningServer.Start(_model, batcher);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(server).CompleteChatAsync([new UserChatMessage(string.Join(" ", Enumerable.Repeat("word", 60)))]));
        Assert.Equal(400, e.Status);
        Assert.Contains("exceed_context_size_error", e.Message);
        Assert.Contains("the context holds 32", e.Message);
    }

    [Fact]
    public async Task With_An_Api_Key_Requests_Without_It_Are_401_And_Health_Stays_Open()
    {
        using var engine = new ScriptedEngine("ok");
        await using var server = await RunningServer.Start(_model, engine, apiKey: "secret");
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client(server, "wrong").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, e.Status);
        ChatCompletion ok = await Client(server, "secret").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("ok", ok.Content[0].Text);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Models_Lists_The_Served_Model()
    {
        using var engine = new ScriptedEngine("");
        await using var server = await RunningServer.Start(_model, engine);
        var models = await new OpenAIClient(new ApiKeyCredential("none"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") })
            .GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal("glm-tiny-chat", Assert.Single(models.Value).Id);
    }

    [Fact]
    public async Task An_Overloaded_Queue_Is_503_With_Retry_After()
    {
        using var engine = new ScriptedEngine("unused") { Waiting = 10_000 };
        await using var server = await RunningServer.Start(_model, engine);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var response = await http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("server_overloaded", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_Body_Over_The_Limit_Is_Refused_With_413()
    {
        using var engine = new ScriptedEngine("unused");
        await using var server = await RunningServer.Start(_model, engine);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string huge = new('x', 5 << 20);
        var response = await http.PostAsJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = huge } } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(engine.Prompts);
    }

    [Fact]
    public async Task Metrics_Report_Requests_Tokens_Latencies_And_The_Engine_In_Prometheus_Text()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 512 });
        await using var server = await RunningServer.Start(_model, batcher);
        await Client(server).CompleteChatAsync([new UserChatMessage("Tell me a fortune.")], Greedy);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string metrics = await http.GetStringAsync("/metrics");
        foreach (string name in new[] { "glm_requests_total", "glm_prompt_tokens_total", "glm_completion_tokens_total", "glm_time_to_first_token_seconds_bucket",
                     "glm_time_per_output_token_seconds_bucket", "glm_queue_length", "glm_batch_size", "glm_kv_cache_used_ratio", "glm_kv_cache_prefix_ratio" })
            Assert.Contains(name, metrics);
        Assert.Matches(@"glm_requests_total\{[^}]*outcome=""ok""[^}]*\} 1", metrics);
    }
}
