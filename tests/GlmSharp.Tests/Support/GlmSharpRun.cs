using GlmSharp.Batching;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Our side of an oracle comparison, shaped like <see cref="Oracle.LlamaCpp"/>: every position's logits of a prompt,
/// or a greedy continuation, from a fresh load of the model. The cache defaults to F32 as on the llama.cpp side.
/// </summary>
internal static class GlmSharpRun
{
    public static float[] Logits(string path, int[] tokens, KvCacheType cache = KvCacheType.F32)
    {
        using var loaded = ModelLoader.Load(path);
        return Logits(loaded, tokens, cache);
    }

    public static float[] Logits(LoadedModel loaded, int[] tokens, KvCacheType cache = KvCacheType.F32)
    {
        using var session = loaded.Model.CreateSession(loaded.Config.MaxPositions, cacheType: cache);
        var logits = new float[tokens.Length * loaded.Config.VocabSize];
        loaded.Model.Forward(tokens, session, logits, LogitsFor.AllTokens);
        return logits;
    }

    public static int[] Greedy(string path, int[] prompt, int count, KvCacheType cache = KvCacheType.F32)
    {
        using var loaded = ModelLoader.Load(path);
        using var session = loaded.Model.CreateSession(loaded.Config.MaxPositions, cacheType: cache);
        var logits = new float[loaded.Config.VocabSize];
        var output = new List<int>();
        loaded.Model.Forward(prompt, session, logits);
        for (int i = 0; i < count; i++)
        {
            int next = Sampler.ArgMax(logits);
            output.Add(next);
            loaded.Model.Forward([next], session, logits);
        }
        return [.. output];
    }

    /// <summary>
    /// Logits of every row of every step of a schedule, in step and row order, from one context holding every
    /// sequence of it: each step is one <see cref="CausalLm.Decode"/> of all its rows.
    /// </summary>
    public static float[] ScheduleLogits(LoadedModel loaded, MixedBatchSchedule schedule, KvCacheType cache = KvCacheType.F32,
        int blockPositions = CausalLm.DefaultBlockPositions, int maxStepRows = CausalLm.DefaultBatchRows)
    {
        int vocab = loaded.Config.VocabSize;
        using var context = loaded.Model.CreateContext(schedule.TotalRows + schedule.Sequences * blockPositions, maxStepRows, cache, blockPositions);
        var ids = Enumerable.Range(0, schedule.Sequences).Select(_ => context.Cache.CreateSequence()).ToArray();
        var all = new float[schedule.TotalRows * vocab];
        var batch = new Batch();
        int written = 0;
        foreach (var step in schedule.Steps)
        {
            batch.Clear();
            foreach (var row in step) batch.Add(row.Token, ids[row.Sequence], row.Position, wantsLogits: true);
            loaded.Model.Decode(batch, context, all.AsSpan(written * vocab, step.Length * vocab));
            written += step.Length;
        }
        return all;
    }

    /// <summary>
    /// The same rows' logits with each sequence run alone in a session of its own, chunked as the schedule chunks
    /// it (its prompt in one step, then one token per step), in the schedule's row order.
    /// </summary>
    public static float[] ScheduleLogitsAlone(LoadedModel loaded, MixedBatchSchedule schedule, KvCacheType cache = KvCacheType.F32)
    {
        int vocab = loaded.Config.VocabSize;
        var bySequence = new float[schedule.Sequences][];
        for (int s = 0; s < schedule.Sequences; s++)
        {
            var tokens = schedule.Tokens(s);
            bySequence[s] = new float[tokens.Length * vocab];
            using var session = loaded.Model.CreateSession(tokens.Length, cacheType: cache);
            int prompt = schedule.Prompts[s].Length;
            loaded.Model.Forward(tokens.AsSpan(0, prompt), session, bySequence[s], LogitsFor.AllTokens);
            for (int i = prompt; i < tokens.Length; i++)
                loaded.Model.Forward(tokens.AsSpan(i, 1), session, bySequence[s].AsSpan(i * vocab, vocab));
        }
        var all = new float[schedule.TotalRows * vocab];
        int written = 0;
        foreach (var step in schedule.Steps)
            foreach (var row in step)
                bySequence[row.Sequence].AsSpan(row.Position * vocab, vocab).CopyTo(all.AsSpan(written++ * vocab, vocab));
        return all;
    }
}
