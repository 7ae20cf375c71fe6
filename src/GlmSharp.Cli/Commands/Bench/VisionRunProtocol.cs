using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using GlmSharp.Errors;

// Compiled into glm and into the llama.cpp bench tool (bench/GlmSharp.LlamaCppBench), so that both sides of the
// vision-encoder comparison take the same options, warm up alike and encode the same pixels.
namespace GlmSharp.Cli.Commands.Bench;

/// <summary>One timed image encode of one engine, as the run prints it on stdout.</summary>
internal sealed record VisionResult(
    [property: JsonPropertyName("encode_ms")] double EncodeMs,
    [property: JsonPropertyName("preprocess_ms")] double PreprocessMs,
    [property: JsonPropertyName("token_rows")] int TokenRows,
    [property: JsonPropertyName("token_cols")] int TokenCols,
    [property: JsonPropertyName("patches")] int Patches,
    [property: JsonPropertyName("load_s")] double LoadS,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb)
{
    [JsonIgnore]
    public int Tokens => TokenRows * TokenCols;
}

/// <summary>
/// What one vision run does: encode a <see cref="Width"/> × <see cref="Height"/> <see cref="SyntheticImage"/> after
/// mtmd's pre-processing with at most <see cref="MaxImageTokens"/> tokens (raised by glm bench so that neither engine caps).
/// </summary>
internal sealed record VisionRunSettings(int Threads, int Width, int Height, int MaxImageTokens)
{
    /// <summary>
    /// The warm-up image's side in merged tokens: large enough to run every kernel of the tower on many rows and touch every
    /// weight page, small enough to cost a fraction of a large image's encode.
    /// </summary>
    public const int WarmupTokensPerSide = 8;

    public IEnumerable<string> Arguments =>
        ["--threads", $"{Threads}", "--image-size", $"{Width}x{Height}", "--image-max-tokens", $"{MaxImageTokens}"];
}

/// <summary>Image sizes given as WIDTHxHEIGHT, comma-separated.</summary>
internal static class ImageSizes
{
    public static (int Width, int Height)[] Parse(string text) => [.. text.Split(',').Select(s => ParseOne(s.Trim(), text))];

    private static (int Width, int Height) ParseOne(string size, string all)
    {
        var sides = size.Split('x', 'X');
        if (sides.Length == 2 && int.TryParse(sides[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(sides[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height) && width > 0 && height > 0)
        {
            if ((long)width * height > MaxPixels)
                throw new GlmException($"--image-size {size}: more than {MaxPixels / 1_000_000} megapixels");
            return (width, height);
        }
        throw new GlmException($"--image-size {all}: expected WIDTHxHEIGHT with positive sides, comma-separated (e.g. 1024x1024,3840x2160)");
    }

    /// <summary>An 8K frame: beyond it the n² attention of one image takes hours on a CPU.</summary>
    private const long MaxPixels = 7680L * 4320;
}

/// <summary>
/// The image both engines encode: seeded noise in every channel (an encoder's time does not depend on the pixels, but
/// a flat image could let a resize shortcut hide), as RGB bytes, row-major.
/// </summary>
internal static class SyntheticImage
{
    public static byte[] Rgb(int width, int height)
    {
        var pixels = new byte[(long)width * height * 3];
        uint state = 2463534242;
        for (long i = 0; i < pixels.Length; i++)
        {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5;
            pixels[i] = (byte)(state >> 24);
        }
        return pixels;
    }
}

/// <summary>The options of a vision run, declared once so that glm bench and the llama.cpp tool agree on them.</summary>
internal sealed class VisionRunOptions
{
    public Option<string?> ImageSize { get; } = new("--image-size") { Description = "image WIDTHxHEIGHT to encode; glm bench takes a comma-separated list (e.g. 1024x1024,3840x2160)" };
    public Option<int?> MaxImageTokens { get; } = new("--image-max-tokens") { Description = "mtmd's image_max_tokens for the run (glm bench sets it so that no image is capped)", Hidden = true };

    public IEnumerable<Option> All => [ImageSize, MaxImageTokens];

    /// <summary>The one run given (a single --image-size), or a one-line error.</summary>
    public VisionRunSettings Read(ParseResult parse, int threads)
    {
        var sizes = ImageSizes.Parse(parse.GetValue(ImageSize) ?? throw new GlmException("give --image-size WIDTHxHEIGHT"));
        if (sizes.Length != 1) throw new GlmException($"--image-size: one run encodes one image, got {sizes.Length}");
        int maxTokens = parse.GetValue(MaxImageTokens) ?? throw new GlmException("give --image-max-tokens");
        if (maxTokens < 1) throw new GlmException($"--image-max-tokens {maxTokens}: must be at least 1");
        return new VisionRunSettings(threads, sizes[0].Width, sizes[0].Height, maxTokens);
    }
}
