using System.Diagnostics;
using System.Text.Json.Serialization;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using LLama;
using LLama.Common;
using LLama.Native;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>One timed run of one engine: load, warm up, prefill a prompt, decode token by token.</summary>
internal sealed record EngineResult(
    [property: JsonPropertyName("prefill_tok_s")] double PrefillTokS,
    [property: JsonPropertyName("decode_tok_s")] double DecodeTokS,
    [property: JsonPropertyName("load_s")] double LoadS,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb);

internal static class EngineRun
{
    public const string GlmSharp = "glmsharp";
    public const string LlamaCpp = "llamacpp";
    private const int WarmupPrompt = 64, WarmupDecode = 16;

    /// <summary>Positions a run needs: the timed prompt and decode, or the warm-up when it is longer (short --prompt/--gen).</summary>
    private static int Context(int prompt, int gen) => Math.Max(prompt + gen, Math.Min(WarmupPrompt, prompt) + WarmupDecode);

    /// <summary>The same pseudo-random ids for both engines: the prompt, then the ids fed while decoding.</summary>
    public static int[] TokenIds(int count, string ggufPath)
    {
        int vocab;
        using (var file = Formats.Gguf.GgufFile.Open(ggufPath)) vocab = (int)file.GetTensor("token_embd.weight").Shape[0];
        var random = new Random(20260101);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
    }

    public static EngineResult Run(string engine, string model, int threads, int prompt, int gen, KvCacheType cacheType) => engine switch
    {
        GlmSharp => RunGlmSharp(model, threads, prompt, gen, cacheType),
        LlamaCpp => RunLlamaCpp(model, threads, prompt, gen, cacheType),
        _ => throw new Errors.GlmException($"unknown engine '{engine}'"),
    };

    private static EngineResult RunGlmSharp(string path, int threads, int prompt, int gen, KvCacheType cacheType)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(threads);
        using var loaded = ModelLoader.Load(path, backend);
        var model = loaded.Model;
        using var session = model.CreateSession(Context(prompt, gen), cacheType: cacheType);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = TokenIds(prompt + gen, path);
        var logits = new float[loaded.Config.VocabSize];
        var one = new int[1];
        model.Forward(ids.AsSpan(0, Math.Min(WarmupPrompt, prompt)), session, logits);
        for (int i = 0; i < WarmupDecode; i++)
        {
            one[0] = ids[prompt + i % gen];
            model.Forward(one, session, logits);
        }
        session.Truncate(0);

        start = Stopwatch.GetTimestamp();
        model.Forward(ids.AsSpan(0, prompt), session, logits);
        double prefill = prompt / Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < gen; i++)
        {
            one[0] = ids[prompt + i];
            model.Forward(one, session, logits);
        }
        double decode = gen / Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new EngineResult(prefill, decode, load, PeakRssMb());
    }

    private static EngineResult RunLlamaCpp(string path, int threads, int prompt, int gen, KvCacheType cacheType)
    {
        NativeApi.llama_empty_call();
        var start = Stopwatch.GetTimestamp();
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)Context(prompt, gen),
            BatchSize = (uint)prompt,
            UBatchSize = (uint)prompt,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = (GGMLType)cacheType.ToGgmlType(),
            TypeV = (GGMLType)cacheType.ToGgmlType(),
        };
        // llama.cpp refuses a quantized V cache without flash attention (its other path reads V transposed).
        if (cacheType == KvCacheType.Q8_0) parameters.FlashAttention = true;
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = TokenIds(prompt + gen, path);
        var batch = new LLamaBatch();
        Prefill(context, batch, ids, Math.Min(WarmupPrompt, prompt));
        for (int i = 0; i < WarmupDecode; i++) DecodeOne(context, batch, ids[prompt + i % gen], Math.Min(WarmupPrompt, prompt) + i);
        context.NativeHandle.MemoryClear(true);

        start = Stopwatch.GetTimestamp();
        Prefill(context, batch, ids, prompt);
        double prefill = prompt / Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < gen; i++) DecodeOne(context, batch, ids[prompt + i], prompt + i);
        double decode = gen / Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new EngineResult(prefill, decode, load, PeakRssMb());
    }

    private static void Prefill(LLamaContext context, LLamaBatch batch, int[] ids, int count)
    {
        batch.Clear();
        for (int i = 0; i < count; i++) batch.Add(ids[i], i, LLamaSeqId.Zero, i == count - 1);
        Check(context.Decode(batch));
    }

    private static void DecodeOne(LLamaContext context, LLamaBatch batch, int token, int position)
    {
        batch.Clear();
        batch.Add(token, position, LLamaSeqId.Zero, true);
        Check(context.Decode(batch));
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new Errors.GlmException($"llama.cpp decode failed: {result}");
    }

    /// <summary>High-water mark of resident memory (VmHWM), which counts the mapped weight pages that were touched.</summary>
    internal static double PeakRssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return Environment.WorkingSet / (1024.0 * 1024.0);
    }
}
