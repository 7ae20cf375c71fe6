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
}
