using GlmSharp.Configs;
using GlmSharp.Formats;

namespace GlmSharp.Models;

/// <summary>
/// Everything GlmSharp knows about one architecture, in one file: how its config reads from config.json and
/// from GGUF metadata, how llama.cpp names its per-layer tensors, and how to build the forward pass.
/// </summary>
public interface IArchitecture
{
    /// <summary>Hugging Face <c>model_type</c>.</summary>
    string ModelType { get; }

    /// <summary>llama.cpp's <c>general.architecture</c> for the same model.</summary>
    string GgufArchitecture { get; }

    ModelConfig ConfigFromGguf(GgufModelMetadata gguf);

    /// <summary>Per-layer tensors as (HF name under model.layers.N, GGUF name under blk.N).</summary>
    IReadOnlyList<TensorNamePair> LayerTensorNames { get; }

    /// <summary>Builds the forward pass from <paramref name="weights"/>; the model owns and disposes <paramref name="owner"/>.</summary>
    CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights);
}
