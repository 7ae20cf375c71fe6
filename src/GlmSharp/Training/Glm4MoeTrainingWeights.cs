using GlmSharp.Training.Layers;

namespace GlmSharp.Training;

/// <summary>A SwiGLU's two matrices: gate and up fused as [2·inner, hidden] (gate rows first), down as [hidden, inner].</summary>
public sealed record SwiGluWeights(TrainingParameter GateUp, TrainingParameter Down);

/// <summary>
/// A mixture-of-experts layer: the router [experts, hidden], its selection bias [experts] (balanced, not trained by
/// gradient), the experts stacked as [experts, 2·inner, hidden] and [experts, hidden, inner], and the shared experts.
/// </summary>
public sealed record MoeWeights(TrainingParameter Router, TrainingParameter SelectionBias, TrainingParameter ExpertsGateUp,
    TrainingParameter ExpertsDown, SwiGluWeights? Shared);

/// <summary>
/// GLM-4.5's NextN layer: eh_proj over [enorm(embed(t_{p+1})); hnorm(h_p)], a glm4_moe layer, then shared_head.norm
/// before the main model's head (the layer's own embedding and head are left out: it shares the main ones).
/// </summary>
public sealed record MtpWeights(TrainingParameter EmbeddingNorm, TrainingParameter HiddenNorm, TrainingParameter Projection,
    TrainingParameter HeadNorm, Glm4MoeLayerWeights Layer);

/// <summary>One glm4_moe layer: pre-norm attention with q/k/v bias, then a dense SwiGLU or a mixture of experts.</summary>
public sealed record Glm4MoeLayerWeights(
    TrainingParameter InputNorm,
    AttentionWeights Attention,
    TrainingParameter PostAttentionNorm,
    SwiGluWeights? Dense,
    MoeWeights? Moe);

/// <summary>
/// The glm4_moe parameter layout under Hugging Face names (<c>model.layers.N.mlp.gate.weight</c>, …). Gate and up
/// projections are kept fused (<c>…gate_up_proj.weight</c>) and the experts stacked, so each is one matrix product;
/// <see cref="HfCheckpointExporter"/> writes them as the per-projection, per-expert tensors of Hugging Face checkpoints.
/// </summary>
public sealed class Glm4MoeTrainingWeights
{
    public Glm4MoeTrainingWeights(Glm4MoeTrainingShape shape)
    {
        shape.Validate();
        Shape = shape;
        Parameters = new TrainingParameters(Layout(shape));
        Embedding = Parameters["model.embed_tokens.weight"];
        FinalNorm = Parameters["model.norm.weight"];
        LmHead = shape.Attention.TieWordEmbeddings ? Embedding : Parameters["lm_head.weight"];
        Layers = Enumerable.Range(0, shape.NumLayers).Select(LayerAt).ToArray();
        if (shape.NextNLayers == 0) return;
        string prefix = $"model.layers.{shape.NumLayers}.";
        Mtp = new MtpWeights(Parameters[prefix + "enorm.weight"], Parameters[prefix + "hnorm.weight"], Parameters[prefix + "eh_proj.weight"],
            Parameters[prefix + "shared_head.norm.weight"], LayerAt(shape.NumLayers));
    }

    public Glm4MoeTrainingShape Shape { get; }
    public TrainingParameters Parameters { get; }
    public TrainingParameter Embedding { get; }
    public TrainingParameter FinalNorm { get; }
    public TrainingParameter LmHead { get; }
    public IReadOnlyList<Glm4MoeLayerWeights> Layers { get; }

    /// <summary>The multi-token-prediction layer, when the shape has one.</summary>
    public MtpWeights? Mtp { get; }

    public void Initialize(ulong seed) => Parameters.InitializeLikeHuggingFace(seed, Glm4TrainingWeights.InitStd);

    private Glm4MoeLayerWeights LayerAt(int layer)
    {
        string prefix = $"model.layers.{layer}.";
        TrainingParameter P(string name) => Parameters[prefix + name];
        var dense = Shape.IsDense(layer) ? new SwiGluWeights(P("mlp.gate_up_proj.weight"), P("mlp.down_proj.weight")) : null;
        var moe = Shape.IsDense(layer) ? null : new MoeWeights(P("mlp.gate.weight"), P("mlp.gate.e_score_correction_bias"),
            P("mlp.experts.gate_up_proj.weight"), P("mlp.experts.down_proj.weight"),
            Shape.SharedExperts > 0 ? new SwiGluWeights(P("mlp.shared_experts.gate_up_proj.weight"), P("mlp.shared_experts.down_proj.weight")) : null);
        return new Glm4MoeLayerWeights(
            P("input_layernorm.weight"),
            Glm4TrainingWeights.AttentionAt(Parameters, prefix, Shape.Attention.AttentionBias),
            P("post_attention_layernorm.weight"),
            dense, moe);
    }

    private static IEnumerable<(string, int[])> Layout(Glm4MoeTrainingShape s)
    {
        var a = s.Attention;
        int h = a.HiddenSize;
        yield return ("model.embed_tokens.weight", [a.VocabSize, h]);
        for (int layer = 0; layer < a.NumLayers + s.NextNLayers; layer++)
        {
            string prefix = $"model.layers.{layer}.";
            if (layer == a.NumLayers)
            {
                yield return (prefix + "enorm.weight", [h]);
                yield return (prefix + "hnorm.weight", [h]);
                yield return (prefix + "eh_proj.weight", [h, 2 * h]);
                yield return (prefix + "shared_head.norm.weight", [h]);
            }
            yield return (prefix + "input_layernorm.weight", [h]);
            foreach (var entry in Glm4TrainingWeights.AttentionLayout(a, prefix)) yield return entry;
            yield return (prefix + "post_attention_layernorm.weight", [h]);
            if (s.IsDense(layer))
            {
                yield return (prefix + "mlp.gate_up_proj.weight", [2 * a.IntermediateSize, h]);
                yield return (prefix + "mlp.down_proj.weight", [h, a.IntermediateSize]);
                continue;
            }
            int e = s.Experts, inner = s.ExpertIntermediateSize;
            yield return (prefix + "mlp.gate.weight", [e, h]);
            yield return (prefix + "mlp.gate.e_score_correction_bias", [e]);
            yield return (prefix + "mlp.experts.gate_up_proj.weight", [e, 2 * inner, h]);
            yield return (prefix + "mlp.experts.down_proj.weight", [e, h, inner]);
            if (s.SharedExperts == 0) continue;
            yield return (prefix + "mlp.shared_experts.gate_up_proj.weight", [2 * s.SharedIntermediateSize, h]);
            yield return (prefix + "mlp.shared_experts.down_proj.weight", [h, s.SharedIntermediateSize]);
        }
        yield return ("model.norm.weight", [h]);
        if (!a.TieWordEmbeddings) yield return ("lm_head.weight", [a.VocabSize, h]);
    }
}
