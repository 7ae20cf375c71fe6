using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Models;

/// <summary>
/// Writes a model as a GGUF file llama.cpp runs: llama.cpp's architecture name, metadata keys and tensor names,
/// matrices in the requested type, norms and biases in F32 (as llama.cpp's own converter keeps them).
/// Tensor data is converted row by row while the file is written, so memory stays flat for large models.
/// </summary>
public static class GgufExporter
{
    /// <summary>Element types a conversion may target.</summary>
    public static IReadOnlyList<GgmlType> Targets { get; } = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.MXFP4, GgmlType.NVFP4];

    /// <summary>
    /// The matrix type `glm convert` writes when none is asked for: Q8_0 for a checkpoint with block-scaled FP8
    /// matrices (GGUF has no such type; Q8_0 keeps 8 bits per weight with a scale per 32, which llama.cpp runs
    /// natively, where BF16 would double the file), F16 otherwise.
    /// </summary>
    public static GgmlType DefaultMatrixType(ITensorSource weights) =>
        weights.Names.Any(n => weights.TryGet(n, out var t) && t.Type == GgmlType.F8_E4M3) ? GgmlType.Q8_0 : GgmlType.F16;

    public static void Write(IArchitecture architecture, ModelConfig config, ITensorSource weights, TokenizerVocabulary? vocabulary,
        string path, GgmlType matrixType, string name, Action<int, int, string>? progress = null)
    {
        if (!Targets.Contains(matrixType))
            throw new UnsupportedModelException($"cannot convert to {matrixType}; supported: {string.Join(", ", Targets)}");
        var writer = new GgufWriter();
        foreach (var (key, value) in GgufModelMetadata.FromDenseConfig(config, architecture.GgufArchitecture)) writer.SetMetadata(key, value);
        writer.SetMetadata("general.name", name);
        writer.SetMetadata("general.file_type", FileType(matrixType));
        foreach (var (key, value) in TokenizerMetadata(vocabulary, config)) writer.SetMetadata(key, value);

        var tensors = weights.Names
            .Select(n => (Hf: n, Gguf: GlmTensorNames.HfToGguf(n, architecture.LayerTensorNames)))
            .Where(t => t.Gguf is not null)
            .OrderBy(t => t.Gguf, StringComparer.Ordinal)
            .ToArray();
        int done = 0;
        foreach (var (hfName, ggufName) in tensors)
        {
            weights.TryGet(hfName, out var tensor);
            var type = TargetType(tensor, matrixType);
            writer.AddTensor(ggufName!, type, tensor.Shape, stream =>
            {
                Convert(tensor, type, stream);
                progress?.Invoke(++done, tensors.Length, ggufName!);
            });
        }
        writer.WriteTo(path);
    }

    private static GgmlType TargetType(TensorView tensor, GgmlType matrixType)
    {
        if (tensor.Shape.Length != 2) return GgmlType.F32;
        long columns = tensor.Shape[1];
        return columns % GgmlTypeInfo.BlockSize(matrixType) == 0 ? matrixType : GgmlType.F16;
    }

    private static unsafe void Convert(TensorView tensor, GgmlType type, Stream output)
    {
        long columns = tensor.Shape[^1];
        long rows = tensor.ElementCount / columns;
        long sourceRowBytes = GgmlTypeInfo.RowByteSize(tensor.Type, columns);
        var values = new float[columns];
        var encoded = new byte[GgmlTypeInfo.RowByteSize(type, columns)];
        for (long r = 0; r < rows; r++)
        {
            if (tensor.Scales is not null) Fp8E4M3.DequantizeRow(tensor, r, values);
            else TensorCodec.DequantizeRow(tensor.Type, tensor.Data + r * sourceRowBytes, values);
            TensorCodec.QuantizeRow(type, values, encoded);
            output.Write(encoded);
        }
    }

    /// <summary>llama.cpp's <c>general.file_type</c> (llama_ftype) for a file whose matrices are of one type.</summary>
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        // llama.cpp names only an MoE mix for MXFP4; the file type is informational when it loads the file.
        GgmlType.MXFP4 => 38,
        GgmlType.NVFP4 => 39,
        _ => throw new UnsupportedModelException($"no llama.cpp file type for {type}"),
    };

    private static Dictionary<string, object> TokenizerMetadata(TokenizerVocabulary? vocabulary, ModelConfig config)
    {
        if (vocabulary is null) return new() { [GgufVocabulary.ModelKey] = "none" };
        var metadata = GgufVocabulary.ToMetadata(vocabulary);
        // GLM ends a turn with any of <|endoftext|>, <|user|>, <|observation|>; llama.cpp knows them as eos, eot, eom.
        string[] stopKeys = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"];
        for (int i = 0; i < Math.Min(stopKeys.Length, config.EosTokenIds.Length); i++)
            metadata.TryAdd(stopKeys[i], (uint)config.EosTokenIds[i]);
        return metadata;
    }
}
