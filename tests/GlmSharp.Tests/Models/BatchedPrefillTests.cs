using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>A prompt longer than the session's batch runs in several batches with the same result as in one.</summary>
public sealed class BatchedPrefillTests
{
    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q8_0)]
    public void Prompt_Split_Into_Batches_Gives_The_Logits_Of_One_Batch(GgmlType type)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false, Context: 128);
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 12).WriteGguf(dir.File("model.gguf"), type);
        using var loaded = ModelLoader.Load(gguf);
        var prompt = spec.RandomPrompt(100, seed: 2);

        float[] Logits(int batchRows)
        {
            using var session = loaded.Model.CreateSession(spec.Context, batchRows, KvCacheType.F32);
            var logits = new float[prompt.Length * spec.Vocab];
            loaded.Model.Forward(prompt, session, logits, LogitsFor.AllTokens);
            return logits;
        }

        var whole = Logits(CausalLm.DefaultBatchRows);
        // 7 rows: batches of the dot-tile size and a short last one; 40: the panel kernel on every batch but the last.
        foreach (int rows in new[] { 7, 40 })
        {
            double error = LogitComparison.WorstRelativeError(Logits(rows), whole, spec.Vocab);
            Assert.True(error <= 1e-5, $"batches of {rows}: worst relative logit error {error:E2} against one batch");
        }
    }
}
