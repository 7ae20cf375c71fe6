using System.Globalization;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;
using GlmSharp.Training.Evaluation;

namespace GlmSharp.Tests.Models;

/// <summary>The models shipped in models/: what `glm` uses when no --model is given, and the draft model.</summary>
public sealed class ShippedModelTests : IClassFixture<ShippedModelTests.Converted>
{
    public static readonly string ChatModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    public static readonly string DraftModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-draft");

    /// <summary>Written for these tests (not corpus text), in both languages the model was trained on.</summary>
    private const string HeldOutText =
        "The old farmer walked down to the river every morning. He said that the water was higher than it had been in " +
        "many years, and that the people of the town should move their cattle to the hills before the rain came again. " +
        "Nobody listened to him at first, but when the bridge was closed, the mayor called a meeting in the church. " +
        "春天来了，山上的花都开了。老人坐在门前，看着远处的河水，想起了年轻时的朋友。" +
        "The students read the letter aloud, and the teacher asked them what they thought the writer had meant.";

    private readonly Converted _converted;

    public ShippedModelTests(Converted converted) => _converted = converted;

    /// <summary>The chat model converted once by `glm convert` to an F32 GGUF for llama.cpp.</summary>
    public sealed class Converted : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public Converted()
        {
            Gguf = _dir.File("glm-tiny-chat.gguf");
            var result = GlmCli.Run("convert", ChatModel, Gguf, "--type", "f32");
            if (result.ExitCode != 0) throw new InvalidOperationException($"glm convert failed: {result.Stderr}");
        }

        public string Gguf { get; }

        public void Dispose() => _dir.Dispose();
    }

    [Fact]
    public void Greedy_Chinese_Continuation_Is_Chinese_Up_To_The_End_Of_The_Document()
    {
        using var loaded = ModelLoader.Load(ChatModel);
        string text = GreedyProbe.Continue(loaded, "春眠不觉晓，", maxTokens: 48).Text;
        var letters = text.Where(c => !char.IsWhiteSpace(c) && !char.IsPunctuation(c)).ToArray();
        int han = letters.Count(c => c is >= '\u4e00' and <= '\u9fff');
        Assert.True(han >= 5 && han >= 0.8 * letters.Length, $"{han} of {letters.Length} characters are Han: {text}");
    }

    [Fact]
    public void Converted_Gguf_Gives_The_Same_Logits_In_LlamaCpp()
    {
        using var loaded = ModelLoader.Load(ChatModel);
        var tokens = loaded.Tokenizer!.Encode(HeldOutText)[..96];
        int vocab = loaded.Config.VocabSize;
        var ours = new float[tokens.Length * vocab];
        using var session = loaded.Model.CreateSession(tokens.Length, cacheType: KvCacheType.F32);
        loaded.Model.Forward(tokens, session, ours, LogitsFor.AllTokens);

        var theirs = LlamaCpp.Logits(_converted.Gguf, tokens, vocab, tokens.Length);

        double error = LogitComparison.WorstRelativeError(ours, theirs, vocab);
        Assert.True(error <= 1e-3, $"worst logit error {error:E2} of the largest logit");
    }

    [Fact]
    public void Perplexity_Through_LlamaCpp_Logits_Is_Within_Half_A_Percent_Of_Ours()
    {
        const int context = 64;
        using var loaded = ModelLoader.Load(ChatModel);
        var tokens = loaded.Tokenizer!.Encode(HeldOutText);
        int vocab = loaded.Config.VocabSize;
        var ours = Perplexity.Measure(loaded.Model, tokens, context, KvCacheType.F32);

        double total = 0;
        int count = 0;
        for (int w = 0; w < tokens.Length / context; w++)
        {
            var window = tokens.AsSpan(w * context, context).ToArray();
            var logits = LlamaCpp.Logits(_converted.Gguf, window, vocab, context);
            for (int position = context / 2; position < context - 1; position++)
            {
                var row = logits.AsSpan(position * vocab, vocab).ToArray();
                double max = row.Max();
                total += Math.Log(row.Sum(v => Math.Exp(v - max))) + max - row[window[position + 1]];
                count++;
            }
        }
        double theirs = Math.Exp(total / count);

        Assert.True(ours.Windows >= 2, $"the held-out text gives only {ours.Windows} windows");
        Assert.InRange(Math.Abs(ours.Value - theirs) / theirs, 0, 0.005);
    }

    [Fact]
    public void Perplexity_Command_Prints_The_Library_Value_For_The_Default_Model()
    {
        using var dir = new TempDirectory();
        string file = dir.File("text.txt");
        File.WriteAllText(file, HeldOutText);
        using var loaded = ModelLoader.Load(DefaultModelTests.DefaultModelPath);
        var expected = Perplexity.Measure(loaded.Model, loaded.Tokenizer!.Encode(HeldOutText), 64);

        var result = GlmCli.Run("perplexity", "--file", file, "--context", "64");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"perplexity {expected.Value:F4} "), result.Stdout);
    }

    [Fact]
    public void Perplexity_Help_States_The_Method()
    {
        var result = GlmCli.Run("perplexity", "--help");
        Assert.Contains("non-overlapping windows", result.Stdout);
        Assert.Contains("second half of each", result.Stdout);
    }

    [Fact]
    public void Draft_Model_Shares_The_Chat_Models_Tokenizer()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(ChatModel, "tokenizer.json")), File.ReadAllText(Path.Combine(DraftModel, "tokenizer.json")));
        using var draft = ModelLoader.Load(DraftModel);
        using var chat = ModelLoader.Load(ChatModel);
        Assert.Equal(chat.Config.VocabSize, draft.Config.VocabSize);
        Assert.True(draft.Model.Weights.Names.Count > 0);
    }
}
