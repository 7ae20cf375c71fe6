using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// The hyper-parameters of a glm4_moe model being trained, with the meaning of <c>Glm4MoeForCausalLM</c>'s config.json
/// keys (see <see cref="Configs.Glm4MoeConfig"/>): <see cref="Attention"/> carries the shared decoder fields (its
/// intermediate_size is the dense lead layers' MLP), the rest the mixture of experts. Routing is sigmoid with one
/// expert group, as GLM-4.5-Air routes.
/// </summary>
public sealed record Glm4MoeTrainingShape
{
    public required Glm4TrainingShape Attention { get; init; }
    public required int Experts { get; init; }
    public required int ExpertsPerToken { get; init; }
    public required int ExpertIntermediateSize { get; init; }
    public int SharedExperts { get; init; } = 1;
    public int FirstDenseLayers { get; init; } = 1;
    public double RoutedScalingFactor { get; init; } = 1.0;
    public bool NormTopkProb { get; init; } = true;

    /// <summary>Multi-token-prediction layers after the main stack (0 or 1): GLM-4.5's NextN layer, a MoE layer that predicts one token further.</summary>
    public int NextNLayers { get; init; }

    public int HiddenSize => Attention.HiddenSize;
    public int NumLayers => Attention.NumLayers;
    public int VocabSize => Attention.VocabSize;

    /// <summary>The shared experts run as one SwiGLU of this width (Hugging Face's <c>shared_experts</c> MLP).</summary>
    public int SharedIntermediateSize => SharedExperts * ExpertIntermediateSize;

    public bool IsDense(int layer) => layer < FirstDenseLayers;

    /// <summary>Throws <see cref="GlmException"/> naming the first field that cannot describe a trainable model.</summary>
    public void Validate()
    {
        Attention.Validate();
        if (Experts < 1) throw new GlmException($"n_routed_experts must be positive, found {Experts}");
        if (ExpertsPerToken < 1 || ExpertsPerToken > Experts)
            throw new GlmException($"num_experts_per_tok must be in [1, n_routed_experts {Experts}], found {ExpertsPerToken}");
        if (ExpertIntermediateSize < 1) throw new GlmException($"moe_intermediate_size must be positive, found {ExpertIntermediateSize}");
        if (SharedExperts < 0) throw new GlmException($"n_shared_experts must be ≥ 0, found {SharedExperts}");
        if (FirstDenseLayers < 0 || FirstDenseLayers > NumLayers)
            throw new GlmException($"first_k_dense_replace must be in [0, num_hidden_layers {NumLayers}], found {FirstDenseLayers}");
        if (NextNLayers is not (0 or 1)) throw new GlmException($"num_nextn_predict_layers must be 0 or 1 for training, found {NextNLayers}");
        if (!(RoutedScalingFactor > 0)) throw new GlmException($"routed_scaling_factor must be positive, found {RoutedScalingFactor}");
    }
}
