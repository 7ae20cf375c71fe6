using System.Text;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using LLama.Native;

namespace GlmSharp.Tests.Tokenizers;

/// <summary>
/// llama.cpp is the reference: a vocabulary trained by <see cref="BpeTrainer"/> is embedded in a vocab-only GGUF
/// (tokenizer.ggml.pre = glm4) and llama.cpp's token ids are compared with ours, token by token.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class TokenizerOracleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"glmsharp-tok-oracle-{Guid.NewGuid():N}");
    private readonly string _ggufPath;
    private readonly SafeLlamaModelHandle _llama;

    public TokenizerOracleTests()
    {
        Directory.CreateDirectory(_dir);
        _ggufPath = Path.Combine(_dir, "vocab.gguf");
        var writer = new GgufWriter();
        // llama.cpp reads the hyper-parameters before the vocabulary even for a vocab-only load, so a minimal set is written.
        writer.SetMetadata("general.architecture", "llama");
        writer.SetMetadata("general.name", "glmsharp-tokenizer-oracle");
        writer.SetMetadata("llama.context_length", 256u);
        writer.SetMetadata("llama.embedding_length", 64u);
        writer.SetMetadata("llama.block_count", 1u);
        writer.SetMetadata("llama.feed_forward_length", 128u);
        writer.SetMetadata("llama.attention.head_count", 4u);
        writer.SetMetadata("llama.attention.head_count_kv", 4u);
        writer.SetMetadata("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        writer.SetMetadata("llama.vocab_size", (uint)TrainedVocabulary.Value.Tokens.Count);
        foreach (var (key, value) in GgufVocabulary.ToMetadata(TrainedVocabulary.Value)) writer.SetMetadata(key, value);
        writer.WriteTo(_ggufPath);

        NativeApi.llama_empty_call();
        var p = LLamaModelParams.Default();
        p.vocab_only = true;
        _llama = SafeLlamaModelHandle.LoadFromFile(_ggufPath, p);
    }

    public void Dispose()
    {
        _llama.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private int[] LlamaIds(string text, bool special) =>
        _llama.Tokenize(text, false, special, Encoding.UTF8).Select(t => (int)t).ToArray();

    private static IEnumerable<string> Corpus => TokenizerCorpus.Evaluation.Concat(TokenizerCorpus.Training.TakeLast(10)).Where(t => t.Length > 0);

    [Fact]
    public void Token_Ids_Match_LlamaCpp_With_Special_Tokens_Parsed()
    {
        var ours = new BpeTokenizer(TrainedVocabulary.Value);
        foreach (string text in Corpus) Assert.Equal(LlamaIds(text, special: true), ours.Encode(text));
    }

    [Fact]
    public void Token_Ids_Match_LlamaCpp_With_Special_Tokens_As_Plain_Text()
    {
        var ours = new BpeTokenizer(TrainedVocabulary.Value);
        foreach (string text in Corpus) Assert.Equal(LlamaIds(text, special: false), ours.Encode(text, parseSpecial: false));
    }

    [Fact]
    public void Tokenizer_Json_And_Gguf_Read_Back_Give_LlamaCpp_Ids()
    {
        HfTokenizerWriter.WriteDirectory(TrainedVocabulary.Value, _dir);
        var fromJson = BpeTokenizer.FromHfDirectory(_dir);
        using var gguf = GgufFile.Open(_ggufPath);
        var fromGguf = BpeTokenizer.FromGgufMetadata(gguf.Metadata, _ggufPath);
        foreach (string text in Corpus)
        {
            var expected = LlamaIds(text, special: true);
            Assert.Equal(expected, fromJson.Encode(text));
            Assert.Equal(expected, fromGguf.Encode(text));
        }
    }

    [Fact]
    public void Every_Token_Decodes_To_The_Same_Bytes_As_LlamaCpp()
    {
        var ours = new BpeTokenizer(TrainedVocabulary.Value);
        var buffer = new byte[256];
        for (int id = 0; id < ours.VocabSize; id++)
        {
            int n = (int)_llama.TokenToSpan(id, buffer, 0, true);
            Assert.True(ours.TokenToBytes(id).SequenceEqual(buffer.AsSpan(0, n)), $"token {id} '{ours.TokenText(id)}'");
        }
    }

    [Fact]
    public void Unseen_Text_Matches_LlamaCpp()
    {
        // Words the trainer never saw: the merges apply partially, which exercises rank order most.
        var ours = new BpeTokenizer(TrainedVocabulary.Value);
        var random = new Random(1234);
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;:'\"!?-_()[]{}<>|\n\t人工智能模型你好😀🚀éüß";
        var runes = alphabet.EnumerateRunes().Select(r => r.ToString()).ToArray();
        for (int i = 0; i < 200; i++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => runes[random.Next(runes.Length)]));
            Assert.Equal(LlamaIds(text, special: true), ours.Encode(text));
        }
    }

    [Fact]
    public void Rendered_Chat_Prompts_Tokenize_Like_LlamaCpp()
    {
        var ours = new BpeTokenizer(TrainedVocabulary.Value);
        var messages = new[]
        {
            ChatMessage.System("You are a helpful assistant. 你是一个助手。"),
            ChatMessage.User("What's 12345 + 678?"),
            ChatMessage.Assistant("<think>add them</think>\n13023", reasoning: null),
            ChatMessage.Tool("{\"result\": 13023}"),
            ChatMessage.User("Thanks! 😀"),
        };
        foreach (var style in new[] { ChatTemplateStyle.Glm4, ChatTemplateStyle.Glm45 })
        {
            foreach (bool thinking in new[] { true, false })
            {
                string prompt = ChatTemplates.Create(style).Render(messages, new ChatTemplateOptions { EnableThinking = thinking });
                var ids = ours.Encode(prompt);
                Assert.Equal(LlamaIds(prompt, special: true), ids);
                Assert.Equal(ours.AddedTokenId("[gMASK]"), ids[0]);
                Assert.Equal(ours.AddedTokenId("<|assistant|>"), style == ChatTemplateStyle.Glm4 || thinking ? ids[^1] : ids[^4]);
            }
        }
    }
}
