using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Batching;

/// <summary>Steps from different threads on one shared backend compute what each computes alone.</summary>
public sealed class ConcurrentCallerTests
{
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    public void Sessions_Decoding_On_Four_Threads_At_Once_Get_Their_Sequential_Logits(GgmlType type)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 32, 96, 0.5, Bias: true, Tied: false, Context: 128);
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 12).WriteGguf(dir.File("model.gguf"), type);
        using var backend = new CpuBackend(threads: 2);
        using var loaded = ModelLoader.Load(gguf, backend);
        var prompts = Enumerable.Range(0, 4).Select(i => spec.RandomPrompt(20 + 17 * i, seed: i)).ToArray();

        float[] Run(int[] prompt)
        {
            using var session = loaded.Model.CreateSession(spec.Context, cacheType: KvCacheType.F16);
            var logits = new float[spec.Vocab];
            var all = new List<float>();
            loaded.Model.Forward(prompt, session, logits);
            all.AddRange(logits);
            for (int i = 0; i < 20; i++)
            {
                loaded.Model.Forward([prompt[i]], session, logits);
                all.AddRange(logits);
            }
            return [.. all];
        }

        var sequential = prompts.Select(Run).ToArray();
        var concurrent = new float[prompts.Length][];
        var threads = Enumerable.Range(0, prompts.Length).Select(i => new Thread(() => concurrent[i] = Run(prompts[i]))).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();

        for (int i = 0; i < prompts.Length; i++) Assert.Equal(sequential[i], concurrent[i]);
    }
}
