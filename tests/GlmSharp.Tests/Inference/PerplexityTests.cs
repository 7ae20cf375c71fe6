using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Inference;

public sealed class PerplexityTests : IDisposable
{
    private static readonly TinyGlmSpec Spec = new("glm4", 300, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false, Context: 64);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int[] RandomTokens(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(Spec.Vocab)).ToArray();
    }

    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Perplexity_Equals_The_Same_Half_Windows_Scored_From_LlamaCpp_Logits()
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 5);
        string folder = checkpoint.WriteHuggingFace(_dir.File("hf"));
        string gguf = checkpoint.WriteGguf(_dir.File("model.gguf"), GgmlType.F32);
        const int context = 32;
        var tokens = RandomTokens(150, seed: 9);

        using var loaded = ModelLoader.Load(folder);
        var ours = Perplexity.Measure(loaded.Model, tokens, context, KvCacheType.F32);

        double total = 0;
        int count = 0;
        for (int w = 0; w < tokens.Length / context; w++)
        {
            var window = tokens.AsSpan(w * context, context).ToArray();
            var logits = LlamaCpp.Logits(gguf, window, Spec.Vocab, context);
            for (int position = context / 2; position < context - 1; position++)
            {
                var row = logits.AsSpan(position * Spec.Vocab, Spec.Vocab);
                double logSum = Math.Log(row.ToArray().Sum(v => Math.Exp(v)));
                total += logSum - row[window[position + 1]];
                count++;
            }
        }
        Assert.Equal(4, ours.Windows);
        Assert.Equal(count, ours.ScoredTokens);
        // 1e-3 nats per token is a perplexity within 0.1%.
        Assert.InRange(Math.Abs(ours.MeanNll - total / count), 0, 1e-3);
    }

    [Fact]
    public void Perplexity_Of_A_Model_With_Uniform_Logits_Is_The_Vocabulary_Size()
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 6);
        // A zero final norm makes every hidden state, hence every logit, zero.
        Array.Clear(checkpoint.Tensors["model.norm.weight"].Values);
        using var loaded = ModelLoader.Load(checkpoint.WriteHuggingFace(_dir.File("hf")));

        var result = Perplexity.Measure(loaded.Model, RandomTokens(100, seed: 3), context: 20);

        Assert.Equal(5, result.Windows);
        Assert.Equal(Spec.Vocab, result.Value, precision: 6);
    }

    [Fact]
    public void Text_Shorter_Than_One_Window_Is_Rejected_With_Its_Token_Count()
    {
        using var loaded = ModelLoader.Load(new RandomGlmCheckpoint(Spec, seed: 7).WriteHuggingFace(_dir.File("hf")));
        var e = Assert.Throws<ContextLimitException>(() => Perplexity.Measure(loaded.Model, RandomTokens(30, seed: 1), context: 32));
        Assert.Contains("30 tokens, fewer than one window of 32", e.Message);
    }

    [Fact]
    public void Window_Longer_Than_The_Models_Positions_Is_Rejected()
    {
        using var loaded = ModelLoader.Load(new RandomGlmCheckpoint(Spec, seed: 7).WriteHuggingFace(_dir.File("hf")));
        var e = Assert.Throws<ContextLimitException>(() => Perplexity.Measure(loaded.Model, RandomTokens(300, seed: 1), context: 128));
        Assert.Contains("max_position_embeddings 64", e.Message);
    }
}
