using GlmSharp.Formats.Safetensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Uniform random F32 tensors added to a checkpoint's tensors under Hugging Face names, drawn in the order they are
/// added, so one seed gives one checkpoint; and the safetensors folder such a checkpoint is written as.
/// </summary>
internal sealed class RandomTensors(Dictionary<string, (long[] Shape, float[] Values)> tensors, int seed)
{
    private readonly Random _random = new(seed);

    public void Matrix(string name, int rows, int cols, float scale) => tensors[name] = ([rows, cols], Uniform(rows * cols, -scale, scale));
    public void Vector(string name, int n, float scale) => tensors[name] = ([n], Uniform(n, -scale, scale));
    public void Norm(string name, int n) => tensors[name] = ([n], Uniform(n, 0.8f, 1.2f));

    /// <summary>gate_proj and up_proj [width, hidden], down_proj [hidden, width] under <paramref name="prefix"/>.</summary>
    public void SwiGlu(string prefix, int width, int hidden)
    {
        Matrix(prefix + "gate_proj.weight", width, hidden, 0.25f);
        Matrix(prefix + "up_proj.weight", width, hidden, 0.25f);
        Matrix(prefix + "down_proj.weight", hidden, width, 0.25f);
    }

    /// <summary>The token embedding, the final norm and an untied LM head.</summary>
    public void EmbeddingAndHead(int vocab, int hidden)
    {
        Matrix("model.embed_tokens.weight", vocab, hidden, 1.0f);
        Norm("model.norm.weight", hidden);
        Matrix("lm_head.weight", vocab, hidden, 0.25f);
    }

    /// <summary>A DeepSeek-style MoE MLP under <paramref name="prefix"/>: router, its selection bias, one SwiGLU per expert, the shared experts as one.</summary>
    public void Experts(string prefix, int experts, int width, int sharedExperts, int hidden)
    {
        Matrix(prefix + "gate.weight", experts, hidden, 0.5f);
        Vector(prefix + "gate.e_score_correction_bias", experts, 0.1f);
        for (int e = 0; e < experts; e++) SwiGlu($"{prefix}experts.{e}.", width, hidden);
        if (sharedExperts > 0) SwiGlu(prefix + "shared_experts.", width * sharedExperts, hidden);
    }

    private float[] Uniform(int n, float lo, float hi)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = lo + (float)_random.NextDouble() * (hi - lo);
        return v;
    }

    /// <summary>config.json and one model.safetensors of every tensor as <paramref name="type"/>.</summary>
    public static string WriteHuggingFace(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> tensors, string configJson, string folder,
        SafetensorsDtype type = SafetensorsDtype.F32)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), configJson);
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in tensors) writer.AddFloats(name, type, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }
}
