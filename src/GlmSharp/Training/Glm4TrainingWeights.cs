using GlmSharp.Training.Layers;

namespace GlmSharp.Training;

/// <summary>The tensors of one glm4 decoder layer, by their place in <see cref="TrainingParameters"/>.</summary>
public sealed record Glm4LayerWeights(
    TrainingParameter InputNorm,
    AttentionWeights Attention,
    TrainingParameter PostSelfAttnNorm,
    TrainingParameter PostAttentionNorm,
    TrainingParameter GateUpProj,
    TrainingParameter DownProj,
    TrainingParameter PostMlpNorm);

/// <summary>
/// The glm4 parameter layout with Hugging Face tensor names (<c>model.layers.N.self_attn.q_proj.weight</c>, …), so the
/// trained values can be written to <c>model.safetensors</c> name for name.
/// </summary>
public sealed class Glm4TrainingWeights
{
    public const float InitStd = 0.02f;

    public Glm4TrainingWeights(Glm4TrainingShape shape)
    {
        shape.Validate();
        Shape = shape;
        Parameters = new TrainingParameters(Layout(shape));
        Embedding = Parameters["model.embed_tokens.weight"];
        FinalNorm = Parameters["model.norm.weight"];
        LmHead = shape.TieWordEmbeddings ? Embedding : Parameters["lm_head.weight"];
        Layers = Enumerable.Range(0, shape.NumLayers).Select(LayerAt).ToArray();
    }

    public Glm4TrainingShape Shape { get; }
    public TrainingParameters Parameters { get; }
    public TrainingParameter Embedding { get; }
    public TrainingParameter FinalNorm { get; }

    /// <summary>The output projection; the embedding itself when the shape ties them.</summary>
    public TrainingParameter LmHead { get; }

    public IReadOnlyList<Glm4LayerWeights> Layers { get; }

    /// <summary>Matrices from N(0, 0.02²), biases zero, norm weights one — the Hugging Face initialisation.</summary>
    public void Initialize(ulong seed) => Parameters.InitializeLikeHuggingFace(seed, InitStd);

    private Glm4LayerWeights LayerAt(int layer)
    {
        string prefix = $"model.layers.{layer}.";
        TrainingParameter P(string name) => Parameters[prefix + name];
        return new Glm4LayerWeights(
            P("input_layernorm.weight"),
            AttentionAt(Parameters, prefix, Shape.AttentionBias),
            P("post_self_attn_layernorm.weight"),
            P("post_attention_layernorm.weight"),
            P("mlp.gate_up_proj.weight"),
            P("mlp.down_proj.weight"),
            P("post_mlp_layernorm.weight"));
    }

    /// <summary>The attention projections of the layer whose names start with <paramref name="prefix"/>.</summary>
    internal static AttentionWeights AttentionAt(TrainingParameters parameters, string prefix, bool bias)
    {
        TrainingParameter P(string name) => parameters[prefix + name];
        TrainingParameter? Bias(string name) => bias ? P(name) : null;
        return new AttentionWeights(
            P("self_attn.q_proj.weight"), Bias("self_attn.q_proj.bias"),
            P("self_attn.k_proj.weight"), Bias("self_attn.k_proj.bias"),
            P("self_attn.v_proj.weight"), Bias("self_attn.v_proj.bias"),
            P("self_attn.o_proj.weight"));
    }

    /// <summary>Layout entries of a layer's attention projections, in Hugging Face's order.</summary>
    internal static IEnumerable<(string, int[])> AttentionLayout(Glm4TrainingShape s, string prefix)
    {
        int h = s.HiddenSize, q = s.QueryWidth, kv = s.KeyValueWidth;
        yield return (prefix + "self_attn.q_proj.weight", [q, h]);
        if (s.AttentionBias) yield return (prefix + "self_attn.q_proj.bias", [q]);
        yield return (prefix + "self_attn.k_proj.weight", [kv, h]);
        if (s.AttentionBias) yield return (prefix + "self_attn.k_proj.bias", [kv]);
        yield return (prefix + "self_attn.v_proj.weight", [kv, h]);
        if (s.AttentionBias) yield return (prefix + "self_attn.v_proj.bias", [kv]);
        yield return (prefix + "self_attn.o_proj.weight", [h, q]);
    }

    private static IEnumerable<(string, int[])> Layout(Glm4TrainingShape s)
    {
        int h = s.HiddenSize, i = s.IntermediateSize;
        yield return ("model.embed_tokens.weight", [s.VocabSize, h]);
        for (int layer = 0; layer < s.NumLayers; layer++)
        {
            string prefix = $"model.layers.{layer}.";
            yield return (prefix + "input_layernorm.weight", [h]);
            foreach (var entry in AttentionLayout(s, prefix)) yield return entry;
            yield return (prefix + "post_self_attn_layernorm.weight", [h]);
            yield return (prefix + "post_attention_layernorm.weight", [h]);
            yield return (prefix + "mlp.gate_up_proj.weight", [2 * i, h]);
            yield return (prefix + "mlp.down_proj.weight", [h, i]);
            yield return (prefix + "post_mlp_layernorm.weight", [h]);
        }
        yield return ("model.norm.weight", [h]);
        if (!s.TieWordEmbeddings) yield return ("lm_head.weight", [s.VocabSize, h]);
    }
}
