using GlmSharp.Configs;
using GlmSharp.Formats;

namespace GlmSharp.Models;

/// <summary>
/// Everything GlmSharp knows about one architecture, in one place: which Hugging Face model_types and GGUF
/// architecture name it answers to, how its config reads from config.json and from GGUF metadata, how llama.cpp names
/// its per-layer tensors, how a checkpoint's stored layout becomes the tensors its layers load, and the forward pass.
/// </summary>
public interface IArchitecture
{
    /// <summary>Hugging Face <c>model_type</c> of the architecture itself.</summary>
    string ModelType { get; }

    /// <summary>Every Hugging Face <c>model_type</c> read as this architecture: its own first, then older layouts of the same network.</summary>
    IReadOnlyList<string> HfModelTypes { get; }

    /// <summary>llama.cpp's <c>general.architecture</c> for the same model.</summary>
    string GgufArchitecture { get; }

    ModelConfig ConfigFromHf(ConfigJson json);

    ModelConfig ConfigFromGguf(GgufModelMetadata gguf);

    /// <summary>The GGUF metadata llama.cpp reads for this architecture (<c>general.architecture</c> and the <c>{arch}.*</c> keys), from a config.</summary>
    Dictionary<string, object> GgufMetadata(ModelConfig config);

    /// <summary>Per-layer tensors as (HF name under model.layers.N, GGUF name under blk.N).</summary>
    IReadOnlyList<TensorNamePair> LayerTensorNames { get; }

    /// <summary>
    /// The checkpoint's tensors under the names <see cref="Build"/> asks for: renamed from an older layout's names and
    /// with fused or merged tensors served as views of their parts. <paramref name="hfConfig"/> is null for a GGUF,
    /// whose names are already mapped through <see cref="LayerTensorNames"/>.
    /// </summary>
    ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config);

    /// <summary>Builds the forward pass from <paramref name="weights"/>; the model owns and disposes <paramref name="owner"/>.</summary>
    CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights);
}
