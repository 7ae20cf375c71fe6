using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// How a GGUF export chooses each tensor's element type: one type for every matrix, or llama.cpp's Q4_K_M mix.
/// Norms, biases and other vectors always stay F32, as llama.cpp keeps them.
/// </summary>
public sealed class QuantizationScheme
{
    private const string Q4KMName = "q4_k_m";

    public string Name { get; }

    /// <summary>The type most matrices get.</summary>
    public GgmlType MatrixType { get; }

    private readonly bool _q4KM;

    private QuantizationScheme(string name, GgmlType matrixType, bool q4KM)
    {
        Name = name;
        MatrixType = matrixType;
        _q4KM = q4KM;
    }

    public static QuantizationScheme Uniform(GgmlType type) =>
        TensorCodec.CanQuantize(type)
            ? new(type.ToString().ToLowerInvariant(), type, false)
            : throw new UnsupportedModelException($"cannot quantize to {type}; supported: {string.Join(", ", Names)}");

    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_K_M: Q4_K, with Q6_K where llama.cpp spends more bits.</summary>
    public static QuantizationScheme Q4_K_M { get; } = new(Q4KMName, GgmlType.Q4_K, true);

    /// <summary>Every name <see cref="Parse"/> accepts: the encodable types, then the mixes.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. TensorCodec.Types.Where(TensorCodec.CanQuantize).Select(t => t.ToString().ToLowerInvariant()), Q4KMName];

    public static QuantizationScheme Parse(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        if (key == Q4KMName) return Q4_K_M;
        foreach (var type in TensorCodec.Types)
            if (type.ToString().Equals(key, StringComparison.OrdinalIgnoreCase) && TensorCodec.CanQuantize(type)) return Uniform(type);
        throw new UnsupportedModelException($"unknown quantization type '{name}'; supported: {string.Join(", ", Names)}");
    }

    /// <summary>llama.cpp's <c>general.file_type</c> (llama_ftype). A file of Q4_K (Q3_K) matrices only is what
    /// llama.cpp writes for Q4_K_S (Q3_K_S) with --pure, so it carries that number.</summary>
    public uint FileType => _q4KM ? 15u : MatrixType switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q2_K => 10,
        GgmlType.Q3_K => 11,
        GgmlType.Q4_K => 14,
        GgmlType.Q6_K => 18,
        GgmlType.IQ4_NL => 25,
        GgmlType.BF16 => 32,
        // llama.cpp names only an MoE mix for MXFP4; the file type is informational when it loads the file.
        GgmlType.MXFP4 => 38,
        GgmlType.NVFP4 => 39,
        _ => throw new UnsupportedModelException($"no llama.cpp file type for {MatrixType}"),
    };

    /// <summary>
    /// The element type of every tensor, given GGUF names and torch-order shapes. llama_tensor_get_type counts the
    /// attn_v and ffn_down tensors it has seen, in layer order (blk.2 before blk.10), and decides by that count;
    /// the count is reproduced here over the same order. In a mixture of experts (<paramref name="experts"/> &gt; 1) a
    /// layer has several ffn_down tensors, so llama.cpp takes an ffn_down's layer from its name (measured against
    /// <paramref name="layers"/>, the file's block_count); with exactly 8 experts it also keeps attention's k and v in Q8_0 and its output in
    /// Q5_K (a Mixtral-era rule).
    /// </summary>
    public IReadOnlyDictionary<string, GgmlType> Assign(IEnumerable<(string Name, long[] Shape)> tensors, int layers, int experts = 0)
    {
        var ordered = tensors.OrderBy(t => GlmTensorNames.LayerOf(t.Name)).ThenBy(t => t.Name, StringComparer.Ordinal).ToArray();
        bool hasOutput = ordered.Any(t => t.Name == "output.weight");
        int valueCount = ordered.Count(t => t.Name.Contains("attn_v.weight", StringComparison.Ordinal));
        int valueIndex = 0, downIndex = 0;
        var types = new Dictionary<string, GgmlType>();
        foreach (var (name, shape) in ordered)
        {
            // llama.cpp never quantizes a MoE router (ffn_gate_inp): its logits choose the experts.
            if (shape.Length < 2 || name.Contains("_norm.weight", StringComparison.Ordinal) || name.EndsWith("ffn_gate_inp.weight", StringComparison.Ordinal))
            {
                types[name] = GgmlType.F32;
                continue;
            }
            long columns = shape[^1];
            if (!_q4KM)
            {
                types[name] = FitRow(MatrixType, columns);
                continue;
            }
            var type = GgmlType.Q4_K;
            if (name == "output.weight" || (!hasOutput && name == "token_embd.weight"))
                type = columns % Q6_K.BlockSize == 0 ? GgmlType.Q6_K : GgmlType.Q8_0;
            else if (name.Contains("attn_v.weight", StringComparison.Ordinal))
            {
                if (UseMoreBits(valueIndex, valueCount)) type = GgmlType.Q6_K;
                if (experts == 8) type = GgmlType.Q8_0;
                valueIndex++;
            }
            else if (name.Contains("attn_k.weight", StringComparison.Ordinal) && experts == 8) type = GgmlType.Q8_0;
            else if (name.Contains("attn_output.weight", StringComparison.Ordinal) && experts == 8) type = GgmlType.Q5_K;
            else if (name.Contains("ffn_down", StringComparison.Ordinal))
            {
                if (experts > 1 ? UseMoreBits(GlmTensorNames.LayerOf(name), layers) : UseMoreBits(downIndex, layers)) type = GgmlType.Q6_K;
                downIndex++;
            }
            types[name] = FitRow(type, columns);
        }
        return types;
    }

    /// <summary>llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between.</summary>
    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    /// <summary>
    /// A type whose blocks do not tile the row is replaced as llama.cpp's quantizer does: Q2_K and Q3_K by IQ4_NL, Q4_K
    /// by Q5_0, Q6_K by Q8_0 (32-value blocks), and F16 when even 32 does not divide the row.
    /// </summary>
    private static GgmlType FitRow(GgmlType type, long columns)
    {
        if (columns % GgmlTypeInfo.BlockSize(type) == 0) return type;
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.IQ4_NL,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return columns % GgmlTypeInfo.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }
}
