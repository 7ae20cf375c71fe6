using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Tests.Tokenizers;

/// <summary>Expected strings are written by hand from the documented GLM formats (glm-architectures.md §4.2/§4.3).</summary>
public class ChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("Be brief."),
        ChatMessage.User("Hi"),
        ChatMessage.Assistant("Hello!"),
        ChatMessage.User("2+2?"),
    ];

    [Fact]
    public void Glm4_Renders_Role_Headers_With_Newlines_And_Generation_Prompt()
    {
        string text = new Glm4ChatTemplate().Render(Conversation);
        Assert.Equal("[gMASK]<sop><|system|>\nBe brief.<|user|>\nHi<|assistant|>\nHello!<|user|>\n2+2?<|assistant|>", text);
    }

    [Fact]
    public void Glm4_Puts_System_Messages_First_And_Writes_Tool_Results_As_Observation()
    {
        var messages = new[] { ChatMessage.User("weather?"), ChatMessage.System("sys"), ChatMessage.Tool("{\"t\":20}") };
        string text = new Glm4ChatTemplate().Render(messages, new ChatTemplateOptions { AddGenerationPrompt = false });
        Assert.Equal("[gMASK]<sop><|system|>\nsys<|user|>\nweather?<|observation|>\n{\"t\":20}", text);
    }

    [Fact]
    public void Glm4_Z1_Keeps_Only_The_Answer_After_Think()
    {
        var messages = new[] { ChatMessage.User("q"), ChatMessage.Assistant("<think>pondering</think>\nanswer") };
        string text = new Glm4ChatTemplate(stripReasoning: true).Render(messages, new ChatTemplateOptions { AddGenerationPrompt = false });
        Assert.Equal("[gMASK]<sop><|user|>\nq<|assistant|>\nanswer", text);
    }

    [Fact]
    public void Glm45_Gives_Historic_Assistant_Turns_An_Empty_Think_Block()
    {
        string text = new Glm45ChatTemplate().Render(Conversation);
        Assert.Equal("[gMASK]<sop><|system|>\nBe brief.<|user|>\nHi<|assistant|>\n<think></think>\nHello!<|user|>\n2+2?<|assistant|>", text);
    }

    [Fact]
    public void Glm45_Shows_Reasoning_Only_After_The_Last_User_Turn()
    {
        var messages = new[]
        {
            ChatMessage.User("a"),
            ChatMessage.Assistant("old answer", reasoning: "old thoughts"),
            ChatMessage.User("b"),
            ChatMessage.Assistant("<think>\nnew thoughts\n</think>\n\nnew answer "),
        };
        string text = new Glm45ChatTemplate().Render(messages, new ChatTemplateOptions { AddGenerationPrompt = false });
        Assert.Equal("[gMASK]<sop><|user|>\na<|assistant|>\n<think></think>\nold answer<|user|>\nb<|assistant|>\n<think>new thoughts</think>\nnew answer", text);
    }

    [Fact]
    public void Glm45_Without_Thinking_Appends_NoThink_And_An_Empty_Think_Prompt()
    {
        var messages = new[] { ChatMessage.User("hi"), ChatMessage.Assistant("yo"), ChatMessage.User("again /nothink") };
        string text = new Glm45ChatTemplate().Render(messages, new ChatTemplateOptions { EnableThinking = false });
        Assert.Equal("[gMASK]<sop><|user|>\nhi/nothink<|assistant|>\n<think></think>\nyo<|user|>\nagain /nothink<|assistant|>\n<think></think>", text);
    }

    [Fact]
    public void Glm45_Groups_Consecutive_Tool_Results_Under_One_Observation()
    {
        var messages = new[] { ChatMessage.User("q"), ChatMessage.Assistant(""), ChatMessage.Tool("r1"), ChatMessage.Tool("r2") };
        string text = new Glm45ChatTemplate().Render(messages);
        Assert.Equal("[gMASK]<sop><|user|>\nq<|assistant|>\n<think></think><|observation|>\n<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response><|assistant|>", text);
    }

    [Fact]
    public void Style_Is_Chosen_From_The_Checkpoint_Template_Unless_Overridden()
    {
        Assert.Equal(ChatTemplateStyle.Glm45, ChatTemplates.DetectStyle(GlmJinjaTemplates.Glm45));
        Assert.Equal(ChatTemplateStyle.Glm4, ChatTemplates.DetectStyle("[gMASK]<sop>{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}{% endfor %}"));
        Assert.Equal(ChatTemplateStyle.Glm4, ChatTemplates.DetectStyle(null));
        Assert.Equal(ChatTemplateStyle.Glm4, ChatTemplates.For(GlmJinjaTemplates.Glm45, ChatTemplateStyle.Glm4).Style);
        Assert.Equal(ChatTemplateStyle.Glm45, ChatTemplates.For(GlmJinjaTemplates.Glm45).Style);
    }
}
