using System.Diagnostics.CodeAnalysis;
using GlmSharp.Configs;
using GlmSharp.Errors;

namespace GlmSharp.Models;

/// <summary>
/// The hyper-parameters of a GGUF model under llama.cpp's <c>{arch}.*</c> keys, read into (and written from)
/// the same config records a config.json produces.
/// </summary>
public sealed class GgufModelMetadata(IReadOnlyDictionary<string, object> metadata, string architecture,
    IReadOnlySet<string> tensorNames, string origin)
{
    public string Architecture => architecture;

    /// <summary>The file, for error messages.</summary>
    public string Origin => origin;

    /// <summary>The fields every dense GLM shares; architectures wrap them in their own config record.</summary>
    public ModelConfig DenseConfig(string modelType)
    {
        int hidden = Int("embedding_length");
        int heads = Int("attention.head_count");
        int headDim = OptInt("attention.key_length") ?? (heads > 0 ? hidden / heads : 0);
        int rotary = OptInt("rope.dimension_count") ?? headDim;
        int context = Int("context_length");
        return new DenseFields
        {
            ModelType = modelType,
            VocabSize = OptInt("vocab_size") ?? TokenCount() ?? throw Missing($"{architecture}.vocab_size or tokenizer.ggml.tokens"),
            HiddenSize = hidden,
            NumLayers = Int("block_count"),
            NumHeads = heads,
            NumKvHeads = OptInt("attention.head_count_kv") ?? heads,
            HeadDim = headDim,
            IntermediateSize = Int("feed_forward_length"),
            MaxPositions = context,
            RmsNormEps = Double("attention.layer_norm_rms_epsilon"),
            RopeTheta = OptDouble("rope.freq_base") ?? 10000.0,
            PartialRotaryFactor = headDim > 0 ? (double)rotary / headDim : 0,
            AttentionBias = tensorNames.Contains("blk.0.attn_q.bias") || tensorNames.Contains("blk.0.attn_qkv.bias"),
            TieWordEmbeddings = !tensorNames.Contains("output.weight"),
            EosTokenIds = StopTokenIds(),
            PadTokenId = OptGlobalInt("tokenizer.ggml.padding_token_id"),
            BosTokenId = OptGlobalInt("tokenizer.ggml.bos_token_id"),
            RopeScaling = RopeScaling(context),
            MropeSections = MropeSections(),
            Keys = ConfigKeys.Gguf(architecture),
        };
    }

    /// <summary>The <c>{arch}.*</c> keys llama.cpp reads for a dense GLM, from a config.</summary>
    public static Dictionary<string, object> FromDenseConfig(ModelConfig c, string architecture)
    {
        var keys = DenseKeys(c, architecture);
        if (c.RopeScaling is { } yarn)
        {
            keys[$"{architecture}.rope.scaling.type"] = "yarn";
            keys[$"{architecture}.rope.scaling.factor"] = (float)yarn.Factor;
            keys[$"{architecture}.rope.scaling.original_context_length"] = (uint)yarn.OriginalContext;
            keys[$"{architecture}.rope.scaling.yarn_beta_fast"] = (float)yarn.BetaFast;
            keys[$"{architecture}.rope.scaling.yarn_beta_slow"] = (float)yarn.BetaSlow;
        }
        if (c.MropeSections is { } sections) keys[$"{architecture}.rope.dimension_sections"] = sections;
        return keys;
    }

    private static Dictionary<string, object> DenseKeys(ModelConfig c, string architecture) => new()
    {
        ["general.architecture"] = architecture,
        [$"{architecture}.context_length"] = (uint)c.MaxPositions,
        [$"{architecture}.embedding_length"] = (uint)c.HiddenSize,
        [$"{architecture}.feed_forward_length"] = (uint)c.IntermediateSize,
        [$"{architecture}.block_count"] = (uint)c.NumLayers,
        [$"{architecture}.attention.head_count"] = (uint)c.NumHeads,
        [$"{architecture}.attention.head_count_kv"] = (uint)c.NumKvHeads,
        [$"{architecture}.attention.key_length"] = (uint)c.HeadDim,
        [$"{architecture}.attention.value_length"] = (uint)c.HeadDim,
        [$"{architecture}.attention.layer_norm_rms_epsilon"] = (float)c.RmsNormEps,
        [$"{architecture}.rope.dimension_count"] = (uint)c.RotaryDims,
        [$"{architecture}.rope.freq_base"] = (float)c.RopeTheta,
        [$"{architecture}.vocab_size"] = (uint)c.VocabSize,
    };

    /// <summary>
    /// llama.cpp's RoPE keys beyond base and width: YaRN is read; every other scaling would change the angles in ways
    /// this engine does not compute yet, so they are refused rather than ignored.
    /// </summary>
    private YarnScaling? RopeScaling(int context)
    {
        if (OptDouble("rope.scale_linear") is double linear && linear != 1)
            throw new UnsupportedModelException($"{origin}: {architecture}.rope.scale_linear {linear} (linear RoPE scaling) is not supported");
        string type = OptString("rope.scaling.type") ?? "none";
        if (type == "none") return null;
        if (type != "yarn")
            throw new UnsupportedModelException($"{origin}: {architecture}.rope.scaling.type '{type}' is not supported; GlmSharp runs no scaling or YaRN");
        // A negative ext factor is llama.cpp's "not set", which YaRN turns into 1.
        if (OptDouble("rope.scaling.yarn_ext_factor") is double ext && ext >= 0 && ext != 1)
            throw new UnsupportedModelException($"{origin}: {architecture}.rope.scaling.yarn_ext_factor {ext} is not supported");
        foreach (var (key, neutral) in (ReadOnlySpan<(string, double)>)[("yarn_attn_factor", 1), ("attn_factor", 1), ("yarn_log_multiplier", 0)])
            if (OptDouble($"rope.scaling.{key}") is double v && v != neutral)
                throw new UnsupportedModelException($"{origin}: {architecture}.rope.scaling.{key} {v} is not supported");

        return YarnScaling.FromFile(Double("rope.scaling.factor"), OptInt("rope.scaling.original_context_length") ?? context,
            OptDouble("rope.scaling.yarn_beta_fast"), OptDouble("rope.scaling.yarn_beta_slow"), $"{origin}: {architecture}.rope.scaling");
    }

    /// <summary>M-RoPE sections (int32[4] in llama.cpp), or null for 1-D RoPE.</summary>
    private int[]? MropeSections()
    {
        string key = $"{architecture}.rope.dimension_sections";
        if (!metadata.TryGetValue(key, out var value)) return null;
        return value as int[] ?? throw WrongType(key, "an int32 array", value);
    }

    private string? OptString(string key)
    {
        string full = $"{architecture}.{key}";
        if (!metadata.TryGetValue(full, out var value)) return null;
        return value as string ?? throw WrongType(full, "a string", value);
    }

    private int[] StopTokenIds()
    {
        var ids = new List<int>();
        foreach (var key in new[] { "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" })
            if (OptGlobalInt(key) is int id && !ids.Contains(id)) ids.Add(id);
        return [.. ids];
    }

    private int? TokenCount() => metadata.TryGetValue("tokenizer.ggml.tokens", out var v) && v is string[] tokens ? tokens.Length : null;

    /// <summary>An integer under <c>{arch}.</c><paramref name="key"/>; missing is an error naming the key.</summary>
    public int Int(string key) => OptInt(key) ?? throw Missing($"{architecture}.{key}");

    public int? OptInt(string key) => OptGlobalInt($"{architecture}.{key}");

    public double Double(string key) => OptDouble(key) ?? throw Missing($"{architecture}.{key}");

    public double? OptDouble(string key)
    {
        string full = $"{architecture}.{key}";
        if (!metadata.TryGetValue(full, out var value)) return null;
        return value switch
        {
            float f => f,
            double d => d,
            _ when TryInteger(value, out long l) => l,
            _ => throw WrongType(full, "a number", value),
        };
    }

    public bool? OptBool(string key)
    {
        string full = $"{architecture}.{key}";
        if (!metadata.TryGetValue(full, out var value)) return null;
        return value as bool? ?? throw WrongType(full, "a bool", value);
    }

    /// <summary>An integer array under <c>{arch}.</c><paramref name="key"/>, or null when the file has none.</summary>
    public int[]? OptInts(string key)
    {
        string full = $"{architecture}.{key}";
        if (!metadata.TryGetValue(full, out var value)) return null;
        if (value is not Array array) throw WrongType(full, "an array of integers", value);
        var result = new int[array.Length];
        for (int i = 0; i < result.Length; i++)
        {
            object element = array.GetValue(i)!;
            if (!TryInteger(element, out long l) || l < int.MinValue || l > int.MaxValue) throw WrongType(full, "an array of integers", value);
            result[i] = (int)l;
        }
        return result;
    }

    public bool HasTensor(string ggufName) => tensorNames.Contains(ggufName);

    private int? OptGlobalInt(string key)
    {
        if (!metadata.TryGetValue(key, out var value)) return null;
        if (!TryInteger(value, out long l) || l < int.MinValue || l > int.MaxValue) throw WrongType(key, "an integer", value);
        return (int)l;
    }

    private static bool TryInteger(object value, out long result)
    {
        switch (value)
        {
            case byte b: result = b; return true;
            case sbyte sb: result = sb; return true;
            case ushort us: result = us; return true;
            case short s: result = s; return true;
            case uint ui: result = ui; return true;
            case int i: result = i; return true;
            case ulong ul when ul <= long.MaxValue: result = (long)ul; return true;
            case long l: result = l; return true;
            default: result = 0; return false;
        }
    }

    private ModelFormatException Missing(string key) => new($"{origin}: metadata key '{key}' is missing");

    private ModelFormatException WrongType(string key, string expected, object found) =>
        new($"{origin}: metadata key '{key}' must be {expected}, found {found.GetType().Name} {found}");

    [SuppressMessage("Performance", "CA1812", Justification = "Instantiated above.")]
    private sealed record DenseFields : ModelConfig;
}
