using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Models;

/// <summary>
/// Writes a model as a GGUF file llama.cpp runs: llama.cpp's architecture name, metadata keys and tensor names,
/// matrices in the types a <see cref="QuantizationScheme"/> picks, norms and biases in F32 (as llama.cpp keeps them).
/// Tensor data is converted in chunks of rows while the file is written, so memory stays flat for large models.
/// </summary>
public static class GgufExporter
{
    /// <summary>
    /// The matrix type `glm convert` writes when none is asked for: Q8_0 for a checkpoint with block-scaled FP8
    /// matrices (GGUF has no such type; Q8_0 keeps 8 bits per weight with a scale per 32, which llama.cpp runs
    /// natively, where BF16 would double the file), F16 otherwise.
    /// </summary>
    public static GgmlType DefaultMatrixType(ITensorSource weights) =>
        weights.Names.Any(n => weights.TryGet(n, out var t) && t.Type == GgmlType.F8_E4M3) ? GgmlType.Q8_0 : GgmlType.F16;

    /// <summary>Writes every matrix as <paramref name="matrixType"/> (see <see cref="QuantizationScheme.Uniform"/>).</summary>
    public static void Write(IArchitecture architecture, ModelConfig config, ITensorSource weights, TokenizerVocabulary? vocabulary,
        string path, GgmlType matrixType, string name, Action<ExportProgress>? progress = null) =>
        Write(architecture, config, weights, vocabulary, path, QuantizationScheme.Uniform(matrixType), name, progress);

    public static void Write(IArchitecture architecture, ModelConfig config, ITensorSource weights, TokenizerVocabulary? vocabulary,
        string path, QuantizationScheme scheme, string name, Action<ExportProgress>? progress = null)
    {
        var writer = new GgufWriter();
        var metadata = architecture.GgufMetadata(config);
        foreach (var (key, value) in metadata) writer.SetMetadata(key, value);
        writer.SetMetadata("general.name", name);
        writer.SetMetadata("general.file_type", scheme.FileType);
        foreach (var (key, value) in TokenizerMetadata(vocabulary, config)) writer.SetMetadata(key, value);

        var tensors = ExportedTensors(weights, architecture, (uint)metadata[$"{architecture.GgufArchitecture}.block_count"]);
        var types = scheme.AssignEncodable(tensors.Select(t => (t.Name, t.Shape)), QuantizationTarget.Of(config));
        long totalBytes = tensors.Sum(t => GgmlTypeInfo.TensorByteSize(types[t.Name], t.Shape));
        long writtenBytes = 0;
        int done = 0;
        foreach (var (ggufName, shape, parts) in tensors)
        {
            var type = types[ggufName];
            writer.AddTensor(ggufName, type, shape, stream =>
            {
                foreach (var part in parts) Convert(part, type, stream);
                writtenBytes += GgmlTypeInfo.TensorByteSize(type, shape);
                progress?.Invoke(new ExportProgress(++done, tensors.Length, ggufName, type, writtenBytes, totalBytes));
            });
        }
        writer.WriteTo(path);
    }

    /// <summary>
    /// The tensors llama.cpp knows, under its names, sorted; per-expert tensors merged (<see cref="ExpertStacks"/>); only
    /// the blocks the file's block_count counts (an architecture whose llama.cpp loader refuses multi-token-prediction
    /// layers counts its main stack only).
    /// </summary>
    private static (string Name, long[] Shape, TensorView[] Parts)[] ExportedTensors(ITensorSource weights, IArchitecture architecture, uint blocks)
    {
        var views = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        foreach (var name in weights.Names)
            if (weights.TryGet(name, out var tensor)) views[name] = tensor;
        return ExpertStacks.Group(views.Select(v => (v.Key, v.Value.Shape)), weights.Origin)
            .Select(t => (Name: GlmTensorNames.HfToGguf(t.Name, architecture.LayerTensorNames), t.Shape, Parts: t.Parts.Select(p => views[p]).ToArray()))
            .Where(t => t.Name is not null && GlmTensorNames.LayerOf(t.Name) < blocks)
            .Select(t => (t.Name!, t.Shape, t.Parts))
            .OrderBy(t => t.Item1, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Encodes the tensor row by row, a chunk of rows at a time in parallel (the K-quant scale searches are the slow
    /// part of an export), writing each chunk in order so memory stays bounded by one chunk.
    /// </summary>
    private static unsafe void Convert(TensorView tensor, GgmlType type, Stream output)
    {
        long columns = tensor.Shape[^1];
        long rows = tensor.ElementCount / columns;
        long sourceRowBytes = GgmlTypeInfo.RowByteSize(tensor.Type, columns);
        int rowBytes = checked((int)GgmlTypeInfo.RowByteSize(type, columns));
        int chunkRows = (int)Math.Clamp((1 << 22) / Math.Max(rowBytes, 1), 1, rows);
        var chunk = new byte[(long)chunkRows * rowBytes];
        byte* source = tensor.Data;
        for (long start = 0; start < rows; start += chunkRows)
        {
            int count = (int)Math.Min(chunkRows, rows - start);
            long first = start;
            Parallel.For(0, count, () => new float[columns], (r, _, values) =>
            {
                if (tensor.Scales is not null) Fp8E4M3.DequantizeRow(tensor, first + r, values);
                else TensorCodec.DequantizeRow(tensor.Type, source + (first + r) * sourceRowBytes, values);
                TensorCodec.QuantizeRow(type, values, chunk.AsSpan(r * rowBytes, rowBytes));
                return values;
            }, _ => { });
            output.Write(chunk, 0, count * rowBytes);
        }
    }

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
