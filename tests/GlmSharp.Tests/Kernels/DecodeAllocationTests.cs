using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

public sealed class DecodeAllocationTests
{
    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Decoding_A_Token_Allocates_No_Managed_Memory(GgmlType type) =>
        Assert.Equal(0, AllocatedWhileDecoding(new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false),
            QuantizationScheme.Uniform(type)));

    /// <summary>Rows of 256 so that the K-quant kernels (not their 32-block fallbacks) run.</summary>
    [Fact]
    public void Decoding_A_Q4_K_M_Token_Allocates_No_Managed_Memory() =>
        Assert.Equal(0, AllocatedWhileDecoding(new TinyGlmSpec("glm4", 160, 256, 2, 4, 2, 64, 256, 0.5, Bias: true, Tied: false),
            QuantizationScheme.Q4_K_M));

    private static long AllocatedWhileDecoding(TinyGlmSpec spec, QuantizationScheme scheme)
    {
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), scheme);
        // A backend of its own: on the shared one, tests running in parallel contend for its locks, and the
        // runtime allocates a lock's wait event the first time a thread has to block on it.
        using var backend = new CpuBackend(threads: 2);
        using var loaded = ModelLoader.Load(gguf, backend);
        var session = loaded.Model.CreateSession(64);
        var logits = new float[spec.Vocab];
        var token = new int[1];
        loaded.Model.Forward([1, 2, 3, 4, 5], session, logits);
        for (int i = 0; i < 3; i++) loaded.Model.Forward(token, session, logits); // warm-up: JIT tiers, scratch sized

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            token[0] = i + 7;
            loaded.Model.Forward(token, session, logits);
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
