using GlmSharp.Kernels;
using LLama;
using LLama.Common;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// llama.cpp (through LLamaSharp 0.30.0) as the reference implementation. The KV cache is F32 unless a test asks
/// for another type (and then GlmSharp's cache must be of the same type), so that differences come from the model
/// computation, not from llama.cpp's default F16 cache. Flash attention stays off except for Q8_0, where llama.cpp
/// requires it: it refuses a quantized V cache otherwise.
/// </summary>
public static class LlamaCpp
{
    private static readonly Lock InitLock = new();
    private static bool _initialised;

    internal static ModelParams Parameters(string ggufPath, int context, KvCacheType cache, int sequences = 1,
        LLamaContextType contextType = LLamaContextType.Default)
    {
        lock (InitLock)
        {
            if (!_initialised)
            {
                NativeApi.llama_empty_call();
                _initialised = true;
            }
        }
        return new ModelParams(ggufPath)
        {
            ContextSize = (uint)context,
            BatchSize = (uint)context,
            UBatchSize = (uint)context,
            Threads = 2,
            TypeK = (GGMLType)cache.ToGgmlType(),
            TypeV = (GGMLType)cache.ToGgmlType(),
            GpuLayerCount = 0,
            FlashAttention = cache == KvCacheType.Q8_0,
            SeqMax = (uint)sequences,
            KVUnified = true,
            ContextType = contextType,
            LoadMTP = contextType == LLamaContextType.Mtp,
        };
    }

    /// <summary>Logits of every position, row-major [tokens, vocab], from one batched decode.</summary>
    public static float[] Logits(string ggufPath, IReadOnlyList<int> tokens, int vocab, int context, KvCacheType cache = KvCacheType.F32)
    {
        var p = Parameters(ggufPath, context, cache);
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++) batch.Add(tokens[i], i, LLamaSeqId.Zero, true);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        var all = new float[tokens.Count * vocab];
        for (int i = 0; i < tokens.Count; i++) ctx.NativeHandle.GetLogitsIth(i)[..vocab].CopyTo(all.AsSpan(i * vocab, vocab));
        return all;
    }

    /// <summary>Greedy continuation: prompt in one batch, then one token at a time, argmax each step.</summary>
    public static int[] Greedy(string ggufPath, IReadOnlyList<int> prompt, int newTokens, int vocab, int context, KvCacheType cache = KvCacheType.F32)
    {
        var p = Parameters(ggufPath, context, cache);
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var output = new List<int>();
        int position = prompt.Count;
        for (int step = 0; step < newTokens; step++)
        {
            var result = ctx.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
            var logits = ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1)[..vocab];
            int next = 0;
            for (int i = 1; i < vocab; i++) if (logits[i] > logits[next]) next = i;
            output.Add(next);
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
        }
        return [.. output];
    }

    /// <summary>
    /// Logits of every row of every step of a multi-sequence schedule, in step and row order: one llama_batch per step
    /// with each row's own sequence id and position, as llama-batched-bench feeds it (one unified KV buffer).
    /// </summary>
    public static float[] ScheduleLogits(string ggufPath, Support.MixedBatchSchedule schedule, int vocab, KvCacheType cache = KvCacheType.F32)
    {
        int context = schedule.Steps.Sum(step => step.Length);
        var p = Parameters(ggufPath, context, cache, schedule.Sequences);
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var all = new float[schedule.TotalRows * vocab];
        int written = 0;
        var batch = new LLamaBatch();
        foreach (var step in schedule.Steps)
        {
            batch.Clear();
            foreach (var row in step) batch.Add(row.Token, row.Position, (LLamaSeqId)row.Sequence, true);
            var result = ctx.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
            for (int i = 0; i < step.Length; i++) ctx.NativeHandle.GetLogitsIth(i)[..vocab].CopyTo(all.AsSpan(written++ * vocab, vocab));
        }
        return all;
    }
}
