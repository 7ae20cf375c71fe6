namespace GlmSharp.Configs;

/// <summary>
/// A checkpoint's <c>generation_config.json</c>: the ids that end a turn and the sampling defaults its authors chose.
/// Absent keys stay null so that the caller's own defaults apply.
/// </summary>
public sealed record GenerationConfig
{
    public int[] EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    public bool? DoSample { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public int? MaxNewTokens { get; init; }

    public static GenerationConfig Empty { get; } = new();

    /// <summary>Reads the file, refusing sampling values the sampler could not use (named with their key and range).</summary>
    public static GenerationConfig FromJson(ConfigJson j) => new()
    {
        EosTokenIds = j.IntOrIntList("eos_token_id"),
        PadTokenId = j.OptInt("pad_token_id"),
        DoSample = j.OptBool("do_sample"),
        Temperature = Checked(j, "temperature", j.OptDouble("temperature"), t => t >= 0 && float.IsFinite((float)t), "a number ≥ 0 within float range"),
        TopP = Checked(j, "top_p", j.OptDouble("top_p"), p => p > 0 && p <= 1, "in (0, 1]"),
        TopK = Checked(j, "top_k", j.OptInt("top_k"), k => k >= 0, "≥ 0"),
        MaxNewTokens = Checked(j, "max_new_tokens", j.OptInt("max_new_tokens"), n => n >= 1, "≥ 1"),
    };

    private static T? Checked<T>(ConfigJson j, string key, T? value, Func<T, bool> valid, string range) where T : struct =>
        value is not { } v || valid(v) ? value
            : throw new Errors.ModelFormatException($"{j.Origin}: field '{key}' is {v}, expected {range}");

    /// <summary>Reads the file when the folder has one.</summary>
    public static GenerationConfig LoadFromFolder(string folder)
    {
        string path = Path.Combine(folder, "generation_config.json");
        return File.Exists(path) ? FromJson(ConfigJson.Load(path)) : Empty;
    }
}
