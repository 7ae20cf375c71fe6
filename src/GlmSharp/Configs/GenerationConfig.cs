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

    public static GenerationConfig FromJson(ConfigJson j) => new()
    {
        EosTokenIds = j.IntOrIntList("eos_token_id"),
        PadTokenId = j.OptInt("pad_token_id"),
        DoSample = j.OptBool("do_sample"),
        Temperature = j.OptDouble("temperature"),
        TopP = j.OptDouble("top_p"),
        TopK = j.OptInt("top_k"),
        MaxNewTokens = j.OptInt("max_new_tokens"),
    };

    /// <summary>Reads the file when the folder has one.</summary>
    public static GenerationConfig LoadFromFolder(string folder)
    {
        string path = Path.Combine(folder, "generation_config.json");
        return File.Exists(path) ? FromJson(ConfigJson.Load(path)) : Empty;
    }
}
