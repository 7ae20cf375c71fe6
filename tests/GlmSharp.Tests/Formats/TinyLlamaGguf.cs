using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Formats;

/// <summary>
/// A one-layer 'llama' model small enough to write in milliseconds, with the metadata llama.cpp requires to load it
/// without a vocabulary (tokenizer.ggml.model = "none" plus llama.vocab_size).
/// </summary>
public static class TinyLlamaGguf
{
    public const int Embedding = 64;
    public const int FeedForward = 128;
    public const int Vocab = 32;
    public const int Heads = 4;

    public static IReadOnlyList<(string Name, long[] Shape)> Tensors { get; } =
    [
        ("token_embd.weight", [Vocab, Embedding]),
        ("output_norm.weight", [Embedding]),
        ("output.weight", [Vocab, Embedding]),
        ("blk.0.attn_norm.weight", [Embedding]),
        ("blk.0.attn_q.weight", [Embedding, Embedding]),
        ("blk.0.attn_k.weight", [Embedding, Embedding]),
        ("blk.0.attn_v.weight", [Embedding, Embedding]),
        ("blk.0.attn_output.weight", [Embedding, Embedding]),
        ("blk.0.ffn_norm.weight", [Embedding]),
        ("blk.0.ffn_gate.weight", [FeedForward, Embedding]),
        ("blk.0.ffn_up.weight", [FeedForward, Embedding]),
        ("blk.0.ffn_down.weight", [Embedding, FeedForward]),
    ];

    /// <summary>Deterministic pseudo-random weights for every tensor, with a spread of magnitudes per block.</summary>
    public static Dictionary<string, float[]> RandomWeights(int seed)
    {
        var rng = new Random(seed);
        var weights = new Dictionary<string, float[]>();
        foreach (var (name, shape) in Tensors)
        {
            var values = new float[shape.Aggregate(1L, (a, d) => a * d)];
            for (int i = 0; i < values.Length; i++)
                values[i] = shape.Length == 1 ? 1f : (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 1)));
            if (shape.Length == 2) AddRoundingTies(values);
            weights[name] = values;
        }
        return weights;
    }

    // Blocks whose scaled values land exactly on .5, where round-half-away-from-zero (Q8_0) and
    // truncation after +8.5 (Q4_0) differ from other rounding rules.
    private static void AddRoundingTies(float[] values)
    {
        values[0] = 127f;
        for (int j = 1; j < 32; j++) values[j] = j - 16.5f;
        int row1 = Embedding;
        values[row1] = -8f;
        for (int j = 1; j < 32; j++) values[row1 + j] = (j % 16) - 7.5f;
    }

    /// <summary>Writes the model; <paramref name="typeOf"/> picks each matrix's storage type (norms stay F32).</summary>
    public static void Write(string path, Dictionary<string, float[]> weights, Func<string, GgmlType> typeOf)
    {
        var writer = new GgufWriter();
        writer.SetMetadata("general.architecture", "llama");
        writer.SetMetadata("general.name", "glmsharp-tiny-llama");
        writer.SetMetadata("llama.context_length", 128u);
        writer.SetMetadata("llama.embedding_length", (uint)Embedding);
        writer.SetMetadata("llama.block_count", 1u);
        writer.SetMetadata("llama.feed_forward_length", (uint)FeedForward);
        writer.SetMetadata("llama.attention.head_count", (uint)Heads);
        writer.SetMetadata("llama.attention.head_count_kv", (uint)Heads);
        writer.SetMetadata("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        writer.SetMetadata("llama.rope.dimension_count", (uint)(Embedding / Heads));
        writer.SetMetadata("llama.rope.freq_base", 10000f);
        writer.SetMetadata("llama.vocab_size", (uint)Vocab);
        writer.SetMetadata("tokenizer.ggml.model", "none");
        foreach (var (name, shape) in Tensors)
            writer.AddTensorFromFloats(name, shape.Length == 1 ? GgmlType.F32 : typeOf(name), shape, weights[name]);
        writer.WriteTo(path);
    }
}
