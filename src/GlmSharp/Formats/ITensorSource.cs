using GlmSharp.Tensors;

namespace GlmSharp.Formats;

/// <summary>
/// Named tensors from one checkpoint (a GGUF file, a set of safetensors shards, or memory in tests).
/// Names are Hugging Face names (<c>model.layers.3.self_attn.q_proj.weight</c>); a GGUF source renames its
/// llama.cpp names on the way in, so models know only one naming scheme.
/// The source owns the memory; views stay valid until it is disposed.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>File or folder name, used in error messages.</summary>
    string Origin { get; }

    IReadOnlyCollection<string> Names { get; }

    bool TryGet(string name, out TensorView tensor);
}
