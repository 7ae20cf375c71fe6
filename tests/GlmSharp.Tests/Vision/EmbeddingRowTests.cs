using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Vision;

/// <summary>Batch rows that carry an input embedding instead of a token (how image tokens enter the text model).</summary>
public sealed class EmbeddingRowTests
{
    [Fact]
    public void A_Row_Carrying_A_Tokens_Own_Embedding_Gives_That_Tokens_Logits_And_Another_Embedding_Does_Not()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 4);
        using var loaded = ModelLoader.Load(checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32));
        var table = checkpoint.Tensors["model.embed_tokens.weight"].Values;
        int[] tokens = [3, 77, 150, 9, 42];

        var expected = Run(loaded, tokens, embeddingRow: -1, embedding: []);
        var same = Run(loaded, tokens, embeddingRow: 2, table.AsSpan(tokens[2] * spec.Hidden, spec.Hidden).ToArray());
        var other = Run(loaded, tokens, embeddingRow: 2, table.AsSpan(5 * spec.Hidden, spec.Hidden).ToArray());

        Assert.Equal(expected, same);
        Assert.True(LogitComparison.WorstRelativeError(other, expected, spec.Vocab) > 1e-2, "a different embedding in row 2 left the logits unchanged");
    }

    [Fact]
    public void Embedding_Rows_Of_Another_Width_Are_Refused()
    {
        var batch = new Batch();
        batch.AddEmbedding(new float[8], 0, [0]);
        var e = Assert.Throws<ArgumentException>(() => batch.AddEmbedding(new float[6], 0, [1]));
        Assert.Contains("embedding rows of this batch are 8 wide, not 6", e.Message);
    }

    private static float[] Run(LoadedModel loaded, int[] tokens, int embeddingRow, float[] embedding)
    {
        int vocab = loaded.Config.VocabSize;
        using var context = loaded.Model.CreateContext(64, cacheType: KvCacheType.F32);
        int sequence = context.Cache.CreateSequence();
        var batch = new Batch();
        for (int i = 0; i < tokens.Length; i++)
        {
            if (i == embeddingRow) batch.AddEmbedding(embedding, sequence, [i], wantsLogits: true);
            else batch.Add(tokens[i], sequence, i, wantsLogits: true);
        }
        var logits = new float[tokens.Length * vocab];
        loaded.Model.Decode(batch, context, logits);
        return logits;
    }
}
