using GlmSharp.Configs;
using GlmSharp.Formats.Gguf;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tensors;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// A random-weight glm4v vision tower held under transformers' names (the Conv3d patch kernel whole), written by our
/// own writers as a llama.cpp mmproj GGUF (the kernel split into its two temporal slices) or as the <c>model.visual.*</c>
/// tensors of a Hugging Face checkpoint.
/// </summary>
internal sealed class RandomGlm4vVision
{
    public static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    public Glm4vVisionConfig Config { get; }
    public Dictionary<string, (long[] Shape, float[] Values)> Tensors { get; } = new();

    public RandomGlm4vVision(Glm4vVisionConfig config, int seed)
    {
        Config = config;
        var random = new Random(seed);
        foreach (var entry in Glm4vVisionTensors.Table(config))
        {
            long count = entry.Shape.Aggregate(1L, (a, d) => a * d);
            var (low, high) = entry.HfName switch
            {
                _ when entry.HfName.EndsWith("norm1.weight") || entry.HfName.EndsWith("norm2.weight") || entry.HfName.EndsWith("layernorm.weight")
                    || entry.HfName.EndsWith("post_projection_norm.weight") || entry.HfName.EndsWith("q_norm.weight") || entry.HfName.EndsWith("k_norm.weight") => (0.8f, 1.2f),
                _ when entry.HfName.EndsWith(".bias") => (-0.2f, 0.2f),
                _ when entry.HfName.StartsWith("embeddings.") => (-0.5f, 0.5f),
                _ => Symmetric(1.5f / MathF.Sqrt(count / entry.Shape[0])),
            };
            var values = new float[count];
            for (long i = 0; i < count; i++) values[i] = low + (float)random.NextDouble() * (high - low);
            Tensors[entry.HfName] = (entry.Shape, values);
        }

        static (float, float) Symmetric(float scale) => (-scale, scale);
    }

    public string WriteMmproj(string path, GgmlType type = GgmlType.F32, IReadOnlyDictionary<string, object>? metadataOverrides = null)
    {
        var writer = new GgufWriter();
        var metadata = new Dictionary<string, object>(Glm4vMmprojLayout.Metadata(Config, Mean, Std));
        foreach (var (key, value) in metadataOverrides ?? new Dictionary<string, object>()) metadata[key] = value;
        foreach (var (key, value) in metadata) writer.SetMetadata(key, value);

        foreach (var entry in Glm4vVisionTensors.Table(Config))
        {
            var (shape, values) = Tensors[entry.HfName];
            var tensorType = Glm4vMmprojLayout.StoredType(entry.GgufName, shape, type);
            if (entry.HfName != Glm4vVisionTensors.HfPatchKernel)
            {
                writer.AddTensorFromFloats(entry.GgufName, tensorType, shape, values);
                continue;
            }
            long[] slice = [shape[0], shape[1], shape[3], shape[4]];
            writer.AddTensorFromFloats(entry.GgufName, tensorType, slice, TemporalSlice(values, shape, 0));
            writer.AddTensorFromFloats(entry.GgufName + ".1", tensorType, slice, TemporalSlice(values, shape, 1));
        }
        writer.WriteTo(path);
        return path;
    }

    /// <summary>Writes the tower as a checkpoint's <c>model.visual.*</c> tensors into <paramref name="file"/>.</summary>
    public string WriteSafetensors(string file)
    {
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in Tensors) writer.AddFloats(Glm4vVisionTensors.HfPrefix + name, SafetensorsDtype.F32, shape, values);
        writer.WriteTo(file);
        return file;
    }

    public Glm4vPreprocessorConfig Preprocessor() => new()
    {
        PatchSize = Config.PatchSize,
        MergeSize = Config.SpatialMergeSize,
        TemporalPatchSize = Config.TemporalPatchSize,
        ImageMean = Mean,
        ImageStd = Std,
    };

    /// <summary>Kernel [out, in, t, p, p] → its slice at temporal index t, [out, in, p, p].</summary>
    private static float[] TemporalSlice(float[] kernel, long[] shape, int t)
    {
        long outer = shape[0] * shape[1], temporal = shape[2], plane = shape[3] * shape[4];
        var slice = new float[outer * plane];
        for (long i = 0; i < outer; i++) Array.Copy(kernel, (i * temporal + t) * plane, slice, i * plane, plane);
        return slice;
    }
}
