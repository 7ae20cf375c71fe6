using System.Diagnostics;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Vision;
using LLama;
using LLama.Common;
using LLama.Native;

namespace GlmSharp.LlamaCppBench;

/// <summary>
/// One timed image encode of libmtmd (LLamaSharp 0.30.0's build) with glm bench's <see cref="VisionRunSettings"/>:
/// mtmd_tokenize pre-processes the image (timed apart), mtmd_encode_chunk runs the vision graph (the encode time).
/// Flash attention is on: without it clip materialises the n × n scores of every head, tens of GB for a 4K image.
/// </summary>
internal static unsafe class LlamaCppVisionRun
{
    public static VisionResult Run(string mmproj, string textModel, VisionRunSettings run)
    {
        NativeApi.llama_empty_call();
        var start = Stopwatch.GetTimestamp();
        var parameters = new ModelParams(textModel) { GpuLayerCount = 0, Threads = run.Threads };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        var mtmdParameters = MtmdContextParams.Default();
        mtmdParameters.UseGpu = false;
        mtmdParameters.NThreads = run.Threads;
        mtmdParameters.Warmup = false;
        mtmdParameters.FlashAttentionType = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED;
        mtmdParameters.ImageMaxTokens = run.MaxImageTokens;
        using var mtmd = MtmdWeights.LoadFromFile(mmproj, weights, mtmdParameters);
        nint context = mtmd.NativeHandle.DangerousGetHandle();
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var (patch, merge) = Geometry(mmproj);
        int warmupSide = VisionRunSettings.WarmupTokensPerSide * patch * merge;
        Encode(context, warmupSide, warmupSide, merge, out _, out _);
        var result = Encode(context, run.Width, run.Height, merge, out double preprocessMs, out double encodeMs);
        return result with { PreprocessMs = preprocessMs, EncodeMs = encodeMs, LoadS = load, PeakRssMb = RunSettings.PeakRssMb() };
    }

    /// <summary>The patch side and the merge (patches per token along a side), from the mmproj's own keys.</summary>
    private static (int Patch, int Merge) Geometry(string mmproj)
    {
        using var file = GgufFile.Open(mmproj);
        var (vision, _) = Glm4vMmproj.Read(file.Metadata);
        return (vision.PatchSize, vision.SpatialMergeSize);
    }

    private static VisionResult Encode(nint context, int width, int height, int merge, out double preprocessMs, out double encodeMs)
    {
        var api = MtmdApi.Instance;
        var pixels = SyntheticImage.Rgb(width, height);
        nint bitmap;
        fixed (byte* data = pixels) bitmap = api.BitmapInit((uint)width, (uint)height, data);
        nint chunks = api.ChunksInit();
        try
        {
            byte* marker = api.DefaultMarker();
            var input = new MtmdInputText { Text = marker, TextLength = (nuint)new ReadOnlySpan<byte>(marker, 64).IndexOf((byte)0), AddSpecial = 0, ParseSpecial = 1 };
            var start = Stopwatch.GetTimestamp();
            int status = api.Tokenize(context, chunks, &input, &bitmap, 1);
            preprocessMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (status != 0) throw new GlmException($"mtmd_tokenize failed ({status}) for a {width}x{height} image");
            nint image = ImageChunk(api, chunks);
            nint tokens = api.ChunkImageTokens(image);
            int rows = (int)api.ImageNy(tokens), cols = (int)api.ImageNx(tokens);
            start = Stopwatch.GetTimestamp();
            if (api.EncodeChunk(context, image) != 0) throw new GlmException($"mtmd_encode_chunk failed for a {width}x{height} image");
            encodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return new VisionResult(encodeMs, preprocessMs, rows, cols, rows * cols * merge * merge, 0, 0);
        }
        finally
        {
            api.ChunksFree(chunks);
            api.BitmapFree(bitmap);
        }
    }

    private static nint ImageChunk(MtmdApi api, nint chunks)
    {
        for (nuint i = 0; i < api.ChunksSize(chunks); i++)
        {
            nint chunk = api.ChunksGet(chunks, i);
            if (api.ChunkType(chunk) == MtmdApi.ImageChunk) return chunk;
        }
        throw new GlmException("mtmd made no image chunk of the image");
    }
}
