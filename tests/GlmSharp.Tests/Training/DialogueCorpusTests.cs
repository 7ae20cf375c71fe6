using GlmSharp.Errors;
using GlmSharp.Tests.Support;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public sealed class DialogueCorpusTests : IDisposable
{
    private static readonly BpeTokenizer Tokenizer =
        new(BpeTrainer.Train([TinyChatModel.Corpus, "Tell me a fortune. Hello there. 请写一首诗。"], vocabSize: 400, chatTemplate: GlmJinjaTemplates.Glm45));
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Text(IEnumerable<int> ids) => Tokenizer.Decode(ids.ToArray());

    [Fact]
    public void Only_Assistant_Turns_And_The_User_Tag_That_Ends_Them_Are_Scored()
    {
        ChatMessage[] conversation =
        [
            ChatMessage.User("Tell me a fortune."), ChatMessage.Assistant("The quick brown fox."),
            ChatMessage.User("请写一首诗。"), ChatMessage.Assistant("春眠不觉晓"),
        ];
        var stream = DialogueCorpus.Tokenize([conversation], Tokenizer, new Glm45ChatTemplate());

        var scored = stream.Ids.Where((_, i) => stream.Scored![i]);
        var unscored = stream.Ids.Where((_, i) => !stream.Scored![i]);
        Assert.Equal("\n<think></think>\nThe quick brown fox.<|user|>\n<think></think>\n春眠不觉晓<|user|>", Text(scored));
        Assert.Equal("[gMASK]<sop><|user|>\nTell me a fortune.<|assistant|>\n请写一首诗。<|assistant|><|endoftext|>", Text(unscored));
    }

    [Fact]
    public void Pieces_Encode_To_The_Same_Ids_As_The_Whole_Rendered_Conversation()
    {
        ChatMessage[] conversation = [ChatMessage.User("Hello there."), ChatMessage.Assistant("The lazy dog. 花落知多少。")];
        var stream = DialogueCorpus.Tokenize([conversation, conversation], Tokenizer, new Glm45ChatTemplate());

        string once = new Glm45ChatTemplate().Render(conversation, new ChatTemplateOptions { AddGenerationPrompt = false }) + "<|user|><|endoftext|>";
        Assert.Equal(Tokenizer.Encode(once + once), stream.Ids);
    }

    [Fact]
    public void A_Window_Scores_Only_Conversations_That_Begin_Inside_It()
    {
        ChatMessage[] first = [ChatMessage.User("Tell me a fortune."), ChatMessage.Assistant("The quick brown fox.")];
        ChatMessage[] second = [ChatMessage.User("Hello there."), ChatMessage.Assistant("The lazy dog.")];
        var stream = DialogueCorpus.Tokenize([first, second], Tokenizer, new Glm45ChatTemplate());
        int secondStart = stream.DocumentStarts![1];
        int gMask = Tokenizer.AddedTokenId("[gMASK]");
        Assert.Equal([0, secondStart], stream.DocumentStarts);
        Assert.Equal(gMask, stream.Ids[secondStart]);

        int insideFirstAnswer = Array.IndexOf(stream.Ids, Tokenizer.AddedTokenId("<|assistant|>")) + 2;
        int length = stream.Ids.Length - 1 - insideFirstAnswer;
        var inputs = new int[length];
        var targets = new int[length];
        stream.Window(insideFirstAnswer, inputs, targets);

        var scoredPositions = Enumerable.Range(0, length).Where(t => targets[t] >= 0).Select(t => insideFirstAnswer + t + 1).ToArray();
        Assert.NotEmpty(scoredPositions);
        Assert.All(scoredPositions, p => Assert.True(p > secondStart, $"position {p} of the first conversation was scored"));
        var secondConversationScored = Enumerable.Range(secondStart, insideFirstAnswer + length + 1 - secondStart).Where(p => stream.Scored![p]);
        Assert.Equal(secondConversationScored, scoredPositions);

        stream.Window(0, inputs, targets);
        Assert.Contains(targets, id => id == Tokenizer.AddedTokenId("<|user|>"));
    }

    [Fact]
    public void Document_Starts_Must_Be_Ascending_Positions_Of_The_Stream()
    {
        Assert.Throws<GlmException>(() => new TokenStream([1, 2, 3], documentStarts: [0, 3]));
        Assert.Throws<GlmException>(() => new TokenStream([1, 2, 3], documentStarts: [1, 1]));
    }

    [Fact]
    public void Read_Accepts_The_Prepared_Jsonl_Format()
    {
        string path = _dir.File("d.jsonl");
        File.WriteAllText(path,
            """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}

            {"messages": [{"role": "user", "content": "请写一首诗。"}, {"role": "assistant", "content": "春眠不觉晓"}]}
            """);
        var conversations = DialogueCorpus.Read(path);
        Assert.Equal(2, conversations.Count);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant], conversations[0].Select(m => m.Role));
        Assert.Equal("春眠不觉晓", conversations[1][1].Content);
    }

    [Theory]
    [InlineData("{\"messages\": [", "2: not valid JSON")]
    [InlineData("{\"turns\": []}", "2: expected an object with a \"messages\" array")]
    [InlineData("{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "2: role must be system, user or assistant, found 'robot'")]
    [InlineData("{\"messages\": [{\"role\": \"user\"}]}", "2: every message needs a string \"content\"")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}", "2: the conversation has no assistant turn")]
    public void Bad_Lines_Are_Reported_With_File_And_Line(string badLine, string expected)
    {
        string path = _dir.File("bad.jsonl");
        File.WriteAllText(path, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}\n" + badLine + "\n");
        var e = Assert.ThrowsAny<GlmException>(() => DialogueCorpus.Read(path));
        Assert.Contains(path + ":" + expected, e.Message);
    }

    [Fact]
    public void Missing_File_Names_The_Script_That_Writes_It()
    {
        var e = Assert.Throws<GlmException>(() => DialogueCorpus.Read(_dir.File("none.jsonl")));
        Assert.Contains("prepare_dialogue.py", e.Message);
    }
}
