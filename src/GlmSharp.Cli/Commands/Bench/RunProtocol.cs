using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels;
using GlmSharp.Models;

// This file is compiled into glm and into the llama.cpp bench tool (bench/GlmSharp.LlamaCppBench), so that the two
// sides of a comparison take the same options, warm up alike, size the same context and feed the same token ids.
namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed run of one engine, as the run prints it on stdout. With several sequences the speeds are aggregates:
/// tokens of all sequences per second.
/// </summary>
internal sealed record EngineResult(
    [property: JsonPropertyName("prefill_tok_s")] double PrefillTokS,
    [property: JsonPropertyName("decode_tok_s")] double DecodeTokS,
    [property: JsonPropertyName("load_s")] double LoadS,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb)
{
    /// <summary>A served run's clients' times to first token (absent for an engine run).</summary>
    [JsonPropertyName("ttft_ms")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? TimeToFirstTokenMs { get; init; }

    /// <summary>A served run's clients' times per output token after the first.</summary>
    [JsonPropertyName("tpot_ms")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? TimePerOutputTokenMs { get; init; }

    /// <summary>A run drafting with the NextN layer: the share of drafted tokens the model kept.</summary>
    [JsonPropertyName("mtp_acceptance")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MtpAcceptance { get; init; }

    /// <summary>With <see cref="RunSettings.DecodeRepeats"/> above one, every repeat's decode speed (DecodeTokS is their median).</summary>
    [JsonPropertyName("decode_samples_tok_s")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? DecodeSamplesTokS { get; init; }

    /// <summary>A run drafting with the NextN layer: tokens made per step of the main model.</summary>
    [JsonPropertyName("tokens_per_step")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TokensPerStep { get; init; }
}

/// <summary>What one run does: <see cref="Parallel"/> sequences of <see cref="Prompt"/> tokens each, then <see cref="Gen"/> decode steps.</summary>
internal sealed record RunSettings(int Threads, int Prompt, int Gen, int Parallel, KvCacheType CacheType)
{
    /// <summary>
    /// How many times the decode steps run after the one timed prefill, each sequence cut back to its prompt between
    /// them. A 64K-token --depth prefills for many minutes in both engines; repeating the decode samples the speed at
    /// that depth that many times for one prefill.
    /// </summary>
    public int DecodeRepeats { get; init; } = 1;

    /// <summary>
    /// Before each decode round the run prints <see cref="TurnSignal"/> and waits for a line on stdin, so that glm bench
    /// can hold both engines after their prefills and alternate their rounds (glm's LockstepPair).
    /// </summary>
    public bool Lockstep { get; init; }

    /// <summary>The line a <see cref="Lockstep"/> run prints when it is ready for its next decode round.</summary>
    public const string TurnSignal = "awaiting-decode-round";

    /// <summary>
    /// The warm-up before timing (tier-0 JIT code and cold caches are several times slower): a prompt of up to 64
    /// tokens, then this many decode steps; the cache is cleared afterwards.
    /// </summary>
    public const int WarmupDecode = 16;

    /// <summary>
    /// GlmSharp repeats its warm-up until this long has passed. The JIT replaces a method's tier-0 code only after it
    /// has been called about 30 times and startup-like activity has paused for 100 ms; one warm-up round of a toy
    /// model took milliseconds, so its timed run measured tier-0 code (glm-tiny-moe, 64 + 64 tokens: decode 236 tok/s
    /// after one round, about 1,300 with every method compiled optimized). llama.cpp has no JIT to warm.
    /// </summary>
    public static readonly TimeSpan MinimumWarmup = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Most prompt tokens either engine runs in one step (GlmSharp's step rows, llama.cpp's micro-batch): a longer prompt
    /// — a --depth of 64K tokens — prefills in steps of this many, so neither holds scores for a whole long context at once.
    /// </summary>
    public const int PrefillChunk = CausalLm.DefaultBatchRows;

    public int WarmupPrompt => Math.Min(64, Prompt);

    /// <summary>Positions one sequence needs: the timed prompt and decode, or the warm-up when it is longer (short --prompt/--gen).</summary>
    public int Context => Math.Max(Prompt + Gen, WarmupPrompt + WarmupDecode);

    /// <summary>The options that hand these settings to a run's own process.</summary>
    public IEnumerable<string> Arguments =>
        ["--threads", $"{Threads}", "--prompt", $"{Prompt}", "--gen", $"{Gen}", "--parallel", $"{Parallel}", "--cache-type", CacheType.Name(),
         "--decode-repeats", $"{DecodeRepeats}", .. Lockstep ? ["--lockstep"] : (string[])[]];

    /// <summary>
    /// Times <see cref="DecodeRepeats"/> rounds of <paramref name="decodeRound"/> (the decode steps), calling
    /// <paramref name="cutBack"/> between them; the median speed, and every round's when there are several.
    /// </summary>
    public (double Median, double[]? Samples) TimeDecodeRounds(Action decodeRound, Action cutBack)
    {
        var speeds = new double[DecodeRepeats];
        for (int r = 0; r < DecodeRepeats; r++)
        {
            if (r > 0) cutBack();
            if (Lockstep) AwaitTurn();
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            decodeRound();
            speeds[r] = Parallel * Gen / System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return (RunStatistics.Median(speeds), DecodeRepeats > 1 ? speeds : null);
    }

    private static void AwaitTurn()
    {
        Console.Out.WriteLine(TurnSignal);
        Console.Out.Flush();
        if (Console.In.ReadLine() is null) throw new GlmException("glm bench closed this run's input before its next decode round");
    }

    /// <summary>
    /// Each sequence's ids: its prompt, then the ids fed while decoding. They are drawn one sequence after another
    /// from one seeded generator, so the first sequence has the ids a single-sequence run has always had.
    /// </summary>
    public int[][] TokenIds(string ggufPath)
    {
        int vocab;
        using (var file = GgufFile.Open(ggufPath)) vocab = (int)file.GetTensor("token_embd.weight").Shape[0];
        var random = new Random(20260101);
        return [.. Enumerable.Range(0, Parallel).Select(_ => Enumerable.Range(0, Prompt + Gen).Select(_ => random.Next(vocab)).ToArray())];
    }

    /// <summary>High-water mark of resident memory (VmHWM), which counts the mapped weight pages that were touched.</summary>
    public static double PeakRssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return Environment.WorkingSet / (1024.0 * 1024.0);
    }
}

/// <summary>The statistic every speed report gives: both tools report medians.</summary>
internal static class RunStatistics
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>The options of a run, declared once so that glm bench and the llama.cpp tool agree on names, defaults and limits.</summary>
internal sealed class RunOptions
{
    public Option<int> Threads { get; } = new("--threads") { Description = "compute threads", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<int> Prompt { get; } = new("--prompt") { Description = "prompt tokens to prefill, per sequence", DefaultValueFactory = _ => 512 };
    public Option<int> Gen { get; } = new("--gen") { Description = "decode steps of one token per sequence", DefaultValueFactory = _ => 128 };
    public Option<int> Parallel { get; } = new("--parallel") { Description = "sequences, each with its own prompt, decoded together one row each per step", DefaultValueFactory = _ => 1 };
    public Option<int> DecodeRepeats { get; } = new("--decode-repeats") { Description = "decode --gen steps this many times after one prefill, the cache cut back to the prompt between (a long --depth prefills once); the median is the run's decode speed", DefaultValueFactory = _ => 1 };
    public Option<bool> Lockstep { get; } = new("--lockstep") { Description = "wait for a line on stdin before each decode round (glm bench alternates two engines' rounds)", Hidden = true };
    public Option<string> CacheType { get; } = new("--cache-type") { Description = $"element type of the KV cache: {string.Join(", ", KvCacheTypes.Names)} (q8_0 needs a head size that is a multiple of 32)", DefaultValueFactory = _ => "f16" };

    public IEnumerable<Option> All => [Threads, Prompt, Gen, Parallel, DecodeRepeats, Lockstep, CacheType];

    /// <summary>The settings given, or a one-line error naming the first option out of range.</summary>
    public RunSettings Read(ParseResult parse)
    {
        foreach (var option in new[] { Threads, Prompt, Gen, Parallel, DecodeRepeats })
            if (parse.GetValue(option) is var value and < 1) throw new GlmException($"{option.Name} {value}: must be at least 1");
        string cacheName = parse.GetValue(CacheType)!;
        var cache = KvCacheTypes.Parse(cacheName) ?? throw new GlmException($"--cache-type {cacheName}: must be one of {string.Join(", ", KvCacheTypes.Names)}");
        return new RunSettings(parse.GetValue(Threads), parse.GetValue(Prompt), parse.GetValue(Gen), parse.GetValue(Parallel), cache)
        {
            DecodeRepeats = parse.GetValue(DecodeRepeats),
            Lockstep = parse.GetValue(Lockstep),
        };
    }
}
