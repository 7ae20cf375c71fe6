using System.Text.Json;
using GlmSharp.Serving;

namespace GlmSharp.Tests.Serving;

/// <summary>
/// GLM replies split into reasoning, answer and tool calls: the failure modes users report against other servers
/// (../shared/docs/glm-family-2026.md §4), each as a case, read whole and streamed one character at a time.
/// </summary>
public sealed class GlmOutputParserTests
{
    private static readonly ToolSchemas Weather = Schemas("""
        [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"}, "zip": {"type": "string"}, "options": {"type": "object"}}}}},
         {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
         {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
        """);

    private static ToolSchemas Schemas(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ToolSchemas.FromOpenAiTools(document.RootElement);
    }

    [Fact]
    public void Thinking_Becomes_Reasoning_And_The_Rest_The_Answer() =>
        AssertParses("<think>\nThe user greets me.\n</think>\nHello! How can I help?", reasoning: "The user greets me.", content: "Hello! How can I help?");

    [Fact]
    public void Thinking_Opened_By_The_Template_Ends_At_Its_Close() =>
        AssertParses("Two and two.</think>\n\nIt is 4.", reasoning: "Two and two.", content: "It is 4.", startsInReasoning: true);

    [Fact]
    public void A_Model_That_Skips_Thinking_Opened_By_The_Template_Keeps_Its_Answer()
    {
        var reply = GlmOutputParser.ParseComplete("It is 4.", ToolSchemas.None, startsInReasoning: true);
        Assert.Equal(("", "It is 4."), (reply.Reasoning, reply.Content));

        var parser = new GlmOutputParser(ToolSchemas.None, startsInReasoning: true);
        foreach (char c in "It is 4.") parser.Append(c.ToString());
        var last = parser.Finish();
        Assert.Equal("It is 4.", last.Content);
        Assert.Equal("It is 4.", parser.Sent.Content);
    }

    [Fact]
    public void A_Call_Made_Without_Closing_Thinking_Opened_By_The_Template_Is_Still_A_Call()
    {
        var reply = GlmOutputParser.ParseComplete("<tool_call>get_time</tool_call>", Weather, startsInReasoning: true);
        Assert.Equal([new ParsedToolCall("get_time", "{}")], reply.ToolCalls);
        Assert.Equal(("", ""), Split(reply));
    }

    [Fact]
    public void Thinking_Cut_Off_By_The_Token_Limit_Stays_Reasoning() =>
        Assert.Equal(("Let me see", ""), Split(GlmOutputParser.ParseComplete("Let me see", ToolSchemas.None, startsInReasoning: true, truncated: true)));

    [Fact]
    public void A_Call_Without_Arguments_Is_Kept() =>
        AssertParses("<tool_call>get_time</tool_call>", calls: [new("get_time", "{}")]);

    [Fact]
    public void Argument_Values_Are_Typed_By_The_Schema() =>
        AssertParses("Checking.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n" +
                     "<arg_key>zip</arg_key>\n<arg_value>75001</arg_value>\n<arg_key>options</arg_key>\n<arg_value>{\"metric\": true}</arg_value>\n</tool_call>",
            content: "Checking.", calls: [new("get_weather", """{"city":"Paris","days":3,"zip":"75001","options":{"metric":true}}""")]);

    [Fact]
    public void A_Value_Without_Its_Tags_Is_Still_Read() =>
        AssertParses("<tool_call>get_weather\n<arg_key>city</arg_key>Paris\n<arg_key>days</arg_key>\n<arg_value>2</arg_value></tool_call>",
            calls: [new("get_weather", """{"city":"Paris","days":2}""")]);

    [Fact]
    public void A_Value_Without_A_Key_Belongs_To_The_Only_Parameter() =>
        AssertParses("<tool_call>search\n<arg_value>GLM-4.5 release date</arg_value>\n</tool_call>", calls: [new("search", """{"query":"GLM-4.5 release date"}""")]);

    [Fact]
    public void A_Value_Without_A_Key_For_A_Tool_Of_Several_Parameters_Stays_Text_Rather_Than_Becoming_Empty_Arguments() =>
        AssertParses("<tool_call>get_weather\n<arg_value>Paris</arg_value>\n</tool_call>", content: "<tool_call>get_weather\n<arg_value>Paris</arg_value>\n</tool_call>");

    [Fact]
    public void Closing_Tags_Never_Leak_Into_The_Function_Name() =>
        AssertParses("<tool_call>get_weather</arg_value>\n<arg_key>city</arg_key><arg_value>Oslo</arg_value></tool_call>",
            calls: [new("get_weather", """{"city":"Oslo"}""")]);

    [Fact]
    public void Several_Calls_After_Text_Come_In_Order() =>
        AssertParses("I will look both up.\n<tool_call>get_time</tool_call>\n<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>42</arg_value>\n</tool_call>",
            content: "I will look both up.", calls: [new("get_time", "{}"), new("search", """{"query":"42"}""")]);

    [Fact]
    public void Box_Markers_Are_Dropped() =>
        AssertParses("The result is <|begin_of_box|>42<|end_of_box|>.", content: "The result is 42.");

    [Fact]
    public void A_Call_Cut_Off_Before_It_Closes_Stays_Text() =>
        AssertParses("Sure.\n<tool_call>get_weather\n<arg_key>city", content: "Sure.\n<tool_call>get_weather\n<arg_key>city");

    [Fact]
    public void Text_That_Only_Looks_Like_A_Tag_Is_Answer_Text() =>
        AssertParses("if a < b and c <think not> d <tool", content: "if a < b and c <think not> d <tool");

    /// <summary>Read whole, and streamed one character at a time: the same reply, no tag in any delta.</summary>
    private static void AssertParses(string text, string reasoning = "", string content = "", ParsedToolCall[]? calls = null, bool startsInReasoning = false)
    {
        var whole = GlmOutputParser.ParseComplete(text, Weather, startsInReasoning);
        Assert.Equal((reasoning, content), Split(whole));
        Assert.Equal(calls ?? [], whole.ToolCalls);

        var parser = new GlmOutputParser(Weather, startsInReasoning);
        var deltas = text.Select(c => parser.Append(c.ToString())).ToList();
        deltas.Add(parser.Finish());
        Assert.Equal((reasoning, content), Split(parser.Sent));
        Assert.Equal(calls ?? [], parser.Sent.ToolCalls);
        if (!content.Contains("<tool_call>", StringComparison.Ordinal))
            foreach (var delta in deltas)
                Assert.DoesNotContain("<tool_call>", delta.Content + delta.Reasoning, StringComparison.Ordinal);
    }

    private static (string, string) Split(ParsedReply reply) => (reply.Reasoning, reply.Content);
}
