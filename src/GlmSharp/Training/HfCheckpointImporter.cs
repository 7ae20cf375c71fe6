using System.Runtime.InteropServices;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tensors;

namespace GlmSharp.Training;

/// <summary>
/// Reads a glm4 Hugging Face folder, as <see cref="HfCheckpointExporter"/> writes it (F32 or BF16, the trainer's tensor
/// names), back into training weights, so that a further pass can start from a shipped model whose training checkpoint
/// was not kept. Every tensor of the shape that config.json describes must be there with that shape, and nothing else.
/// </summary>
public static class HfCheckpointImporter
{
    public static Glm4TrainingWeights LoadGlm4(string folder)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new ModelFormatException($"{folder}: no config.json, so not a Hugging Face model folder");
        if (HfConfigLoader.Load(configPath) is not Glm4Config config)
            throw new UnsupportedModelException($"{configPath}: only glm4 weights can start a pass from a Hugging Face folder; start glm4_moe from its checkpoint.bin");
        var shape = new Glm4TrainingShape
        {
            VocabSize = config.VocabSize, HiddenSize = config.HiddenSize, NumLayers = config.NumLayers, NumHeads = config.NumHeads,
            NumKvHeads = config.NumKvHeads, HeadDim = config.HeadDim, IntermediateSize = config.IntermediateSize,
            PartialRotaryFactor = config.PartialRotaryFactor, RopeTheta = config.RopeTheta, RmsNormEps = config.RmsNormEps,
            AttentionBias = config.AttentionBias, TieWordEmbeddings = config.TieWordEmbeddings, MaxPositions = config.MaxPositions,
        };
        shape.Validate();
        var weights = new Glm4TrainingWeights(shape);
        using var file = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));
        foreach (var parameter in weights.Parameters.All)
        {
            if (!file.TryGetTensorInfo(parameter.Name, out var info))
                throw new ModelFormatException($"{file.Path}: tensor '{parameter.Name}' is missing");
            if (!info.Shape.SequenceEqual(parameter.Shape.Select(d => (long)d)))
                throw new ModelFormatException($"{file.Path}: tensor '{parameter.Name}' has shape [{string.Join(",", info.Shape)}], expected [{string.Join(",", parameter.Shape)}]");
            Read(file, info, parameter.Of(weights.Parameters.Values));
        }
        if (file.Tensors.FirstOrDefault(t => !weights.Parameters.Contains(t.Name)) is { } extra)
            throw new ModelFormatException($"{file.Path}: tensor '{extra.Name}' is not part of the glm4 model config.json describes");
        return weights;
    }

    private static unsafe void Read(SafetensorsFile file, SafetensorsTensorInfo info, Span<float> destination)
    {
        var view = file.View(info);
        var bytes = new ReadOnlySpan<byte>(view.Data, checked((int)view.ByteLength));
        switch (info.Dtype)
        {
            case SafetensorsDtype.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case SafetensorsDtype.BF16:
                Bf16.Decode(bytes, destination);
                break;
            default:
                throw new UnsupportedModelException($"{file.Path}: tensor '{info.Name}' is {info.Dtype}; training reads F32 or BF16 weights");
        }
    }
}
