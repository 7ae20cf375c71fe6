using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// A glm4v checkpoint's <c>preprocessor_config.json</c>: patch geometry, the pixel budget and the normalisation.
/// Absent keys take Glm4vImageProcessor's class defaults (min 112·112, max 28·28·15000 pixels, CLIP mean/std).
/// </summary>
public sealed record Glm4vPreprocessorConfig
{
    public const long DefaultMinPixels = 112 * 112;
    public const long DefaultMaxPixels = 28 * 28 * 15000;
    public static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public int PatchSize { get; init; } = 14;
    public int TemporalPatchSize { get; init; } = 2;
    public int MergeSize { get; init; } = 2;
    public long MinPixels { get; init; } = DefaultMinPixels;
    public long MaxPixels { get; init; } = DefaultMaxPixels;
    public float[] ImageMean { get; init; } = ClipMean;
    public float[] ImageStd { get; init; } = ClipStd;

    public static Glm4vPreprocessorConfig Default { get; } = new();

    /// <summary>Glm4vVideoProcessor's pixel budget (112·112 … 28·28·2·30000), counted over all of a video's sampled frames.</summary>
    public Glm4vPreprocessorConfig WithVideoBudget() => this with { MinPixels = DefaultMinPixels, MaxPixels = 28L * 28 * 2 * 30000 };

    /// <summary>Side lengths are multiples of this: one merged token covers factor × factor pixels.</summary>
    public int Factor => PatchSize * MergeSize;

    /// <summary>Floats in one patch row: channels × temporal patch × patch × patch (1176 for GLM-4.1V).</summary>
    public int PatchRowLength => 3 * TemporalPatchSize * PatchSize * PatchSize;

    public static Glm4vPreprocessorConfig Load(string path) => FromJson(ConfigJson.Load(path));

    public static Glm4vPreprocessorConfig FromJson(ConfigJson j)
    {
        var size = j.Object("size");
        // Newer files put the pixel budget in size.{shortest,longest}_edge, older ones in min_pixels / max_pixels.
        long minPixels = OptLong(size, "shortest_edge") ?? OptLong(j, "min_pixels") ?? DefaultMinPixels;
        long maxPixels = OptLong(size, "longest_edge") ?? OptLong(j, "max_pixels") ?? DefaultMaxPixels;
        var config = new Glm4vPreprocessorConfig
        {
            PatchSize = Positive(j, "patch_size", j.OptInt("patch_size") ?? 14),
            TemporalPatchSize = Positive(j, "temporal_patch_size", j.OptInt("temporal_patch_size") ?? 2),
            MergeSize = Positive(j, "merge_size", j.OptInt("merge_size") ?? 2),
            MinPixels = minPixels,
            MaxPixels = maxPixels,
            ImageMean = Triple(j, "image_mean") ?? ClipMean,
            ImageStd = Triple(j, "image_std") ?? ClipStd,
        };
        if (minPixels < 1) throw new ModelFormatException($"{j.Origin}: field 'size.shortest_edge' (min pixels) is {minPixels}, expected ≥ 1");
        if (maxPixels < minPixels)
            throw new ModelFormatException($"{j.Origin}: field 'size.longest_edge' (max pixels) is {maxPixels}, below the min pixels {minPixels}");
        if (config.ImageStd.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ModelFormatException($"{j.Origin}: field 'image_std' must hold positive numbers, found [{string.Join(", ", config.ImageStd)}]");
        RequireTrue(j, "do_rescale");
        RequireTrue(j, "do_normalize");
        if (j.OptDouble("rescale_factor") is { } rescale && Math.Abs(rescale - 1.0 / 255) > 1e-9)
            throw new ModelFormatException($"{j.Origin}: field 'rescale_factor' is {rescale}, GlmSharp runs glm4v with 1/255 only");
        return config;
    }

    private static long? OptLong(ConfigJson? j, string key)
    {
        if (j?.Raw(key) is not { ValueKind: not JsonValueKind.Null } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n))
            throw new ModelFormatException($"{j.Origin}: field '{key}' must be an integer, found {v.GetRawText()}");
        return n;
    }

    private static int Positive(ConfigJson j, string key, int value) =>
        value >= 1 ? value : throw new ModelFormatException($"{j.Origin}: field '{key}' is {value}, expected ≥ 1");

    private static float[]? Triple(ConfigJson j, string key)
    {
        if (j.Raw(key) is not { ValueKind: not JsonValueKind.Null } v) return null;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
            throw new ModelFormatException($"{j.Origin}: field '{key}' must be a list of 3 numbers (R, G, B), found {v.GetRawText()}");
        return [.. v.EnumerateArray().Select(e => (float)e.GetDouble())];
    }

    private static void RequireTrue(ConfigJson j, string key)
    {
        if (j.OptBool(key) == false)
            throw new ModelFormatException($"{j.Origin}: field '{key}' is false, GlmSharp runs glm4v only with it on");
    }
}
