using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// How a GGUF export chooses each tensor's element type: one type for every matrix, or one of llama-quantize's
/// presets (<see cref="QuantPreset"/>), whose per-tensor choices follow llama.cpp's. Norms, biases and
/// other vectors always stay F32, as llama.cpp keeps them.
/// </summary>
public sealed class QuantizationScheme
{
    public string Name { get; }

    /// <summary>The type most matrices get.</summary>
    public GgmlType MatrixType { get; }

    /// <summary>The llama-quantize preset this scheme follows, or null for one type everywhere.</summary>
    public QuantPreset? Preset { get; }

    private QuantizationScheme(string name, GgmlType matrixType, QuantPreset? preset)
    {
        Name = name;
        MatrixType = matrixType;
        Preset = preset;
    }

    public static QuantizationScheme Uniform(GgmlType type) =>
        TensorCodec.CanQuantize(type)
            ? new(type.ToString().ToLowerInvariant(), type, null)
            : throw new UnsupportedModelException($"cannot quantize to {type}; supported: {string.Join(", ", Names)}");

    /// <summary>A llama-quantize preset. Presets that need a type GlmSharp cannot write yet are refused when a file is written.</summary>
    public static QuantizationScheme ForPreset(QuantPreset preset) =>
        new(preset.ToString().ToLowerInvariant(), QuantPresetMix.DefaultType(preset), preset);

    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_K_M: Q4_K, with Q6_K where llama.cpp spends more bits.</summary>
    public static QuantizationScheme Q4_K_M { get; } = ForPreset(QuantPreset.Q4_K_M);

    /// <summary>
    /// Every name <see cref="Parse"/> accepts: the encodable types, then the presets. A preset's name wins over a
    /// type of the same name (q6_k is both, and the preset writes the same file), as in llama-quantize.
    /// </summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. TensorCodec.Types.Where(TensorCodec.CanQuantize).Select(t => t.ToString().ToLowerInvariant())
            .Union(Enum.GetValues<QuantPreset>().Select(p => p.ToString().ToLowerInvariant()))];

    public static QuantizationScheme Parse(string name)
    {
        string key = name.Trim();
        if (Enum.TryParse<QuantPreset>(key, ignoreCase: true, out var preset) && Enum.IsDefined(preset) && !int.TryParse(key, out _))
            return ForPreset(preset);
        foreach (var type in TensorCodec.Types)
            if (type.ToString().Equals(key, StringComparison.OrdinalIgnoreCase) && TensorCodec.CanQuantize(type)) return Uniform(type);
        throw new UnsupportedModelException($"unknown quantization type '{name}'; supported: {string.Join(", ", Names)}");
    }

    /// <summary>llama.cpp's <c>general.file_type</c> (llama_ftype). A file of Q4_K (Q5_K) matrices only is what llama.cpp
    /// writes for Q4_K_S (Q5_K_S) with --pure, so it carries that number.</summary>
    public uint FileType => Preset is { } preset ? (uint)preset : MatrixType switch
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
        GgmlType.Q5_K => 16,
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
    /// the count is reproduced here over the same order (see <see cref="QuantPresetMix"/>).
    /// </summary>
    public IReadOnlyDictionary<string, GgmlType> Assign(IEnumerable<(string Name, long[] Shape)> tensors, QuantizationTarget target)
    {
        var ordered = tensors.OrderBy(t => GlmTensorNames.LayerOf(t.Name)).ThenBy(t => t.Name, StringComparer.Ordinal).ToArray();
        bool tiedOutput = !ordered.Any(t => t.Name == "output.weight");
        var mix = Preset is { } preset
            ? new QuantPresetMix(preset, target, ordered.Count(t => t.Name.Contains("attn_v.weight", StringComparison.Ordinal)))
            : null;
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
            types[name] = FitRow(mix?.TypeOf(name, shape, tiedOutput) ?? MatrixType, columns);
        }
        return types;
    }

    /// <summary>
    /// <see cref="Assign"/>, refusing a preset that puts a type GlmSharp cannot write yet on one of the tensors.
    /// </summary>
    public IReadOnlyDictionary<string, GgmlType> AssignEncodable(IEnumerable<(string Name, long[] Shape)> tensors, QuantizationTarget target)
    {
        var types = Assign(tensors, target);
        foreach (var (name, type) in types.OrderBy(t => t.Key, StringComparer.Ordinal))
            if (!TensorCodec.CanQuantize(type))
                throw new UnsupportedModelException($"{Name} gives {name} the type {type}, which GlmSharp cannot write yet");
        return types;
    }

    /// <summary>
    /// A type whose blocks do not tile the row is replaced as llama.cpp's quantizer does: Q2_K and Q3_K by Q4_0,
    /// Q4_K by Q5_0, Q5_K by Q5_1, Q6_K by Q8_0 (32-value blocks), and F16 when even 32 does not divide the row.
    /// </summary>
    private static GgmlType FitRow(GgmlType type, long columns)
    {
        if (columns % GgmlTypeInfo.BlockSize(type) == 0) return type;
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return columns % GgmlTypeInfo.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }
}
