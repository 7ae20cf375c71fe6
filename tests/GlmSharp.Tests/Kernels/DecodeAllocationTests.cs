using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

public sealed class DecodeAllocationTests
{
    public static TheoryData<GgmlType, KvCacheType> Types()
    {
        var data = new TheoryData<GgmlType, KvCacheType>();
        foreach (var weights in new[] { GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL,
                     GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q5_K, GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S, GgmlType.IQ1_S, GgmlType.IQ1_M,
                     GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S })
            data.Add(weights, KvCacheType.F16);
        data.Add(GgmlType.Q8_0, KvCacheType.F32);
        data.Add(GgmlType.Q8_0, KvCacheType.Q8_0);
        return data;
    }

    // Head size 32 so that a Q8_0 cache fits; a 70-token prompt so that decoding spans two attention tiles and
    // splits each row's positions over the two threads. K-quants get rows of 256, so that their own kernels run
    // rather than their 32-block fallbacks.
    [Theory]
    [MemberData(nameof(Types))]
    public void Decoding_A_Token_Allocates_No_Managed_Memory(GgmlType type, KvCacheType cacheType) =>
        Assert.Equal(0, AllocatedWhileDecoding(GgmlTypeInfo.BlockSize(type) == 256
                ? new TinyGlmSpec("glm4", 160, 256, 2, 8, 2, 32, 256, 0.5, Bias: true, Tied: false, Context: 128)
                : new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 32, 96, 0.5, Bias: true, Tied: false, Context: 128),
            type, cacheType));

    /// <summary>Rows of 256 so that the K-quant kernels (not their 32-block fallbacks) run.</summary>
    [Fact]
    public void Decoding_A_Q4_K_M_Token_Allocates_No_Managed_Memory() =>
        Assert.Equal(0, AllocatedWhileDecoding(new TinyGlmSpec("glm4", 160, 256, 2, 4, 2, 64, 256, 0.5, Bias: true, Tied: false, Context: 128),
            QuantizationScheme.Q4_K_M, KvCacheType.F16));

    /// <summary>Types GlmSharp cannot write get random blocks (<see cref="RandomIqBlocks"/>).</summary>
    private static long AllocatedWhileDecoding(TinyGlmSpec spec, GgmlType type, KvCacheType cacheType)
    {
        if (TensorCodec.CanQuantize(type)) return AllocatedWhileDecoding(spec, QuantizationScheme.Uniform(type), cacheType);
        using var dir = new TempDirectory();
        return AllocatedWhileDecoding(spec.Vocab, RandomIqBlocks.WriteModel(p => new RandomGlmCheckpoint(spec, seed: 1).WriteGguf(p, GgmlType.F32), dir.File("model.gguf"), type, seed: 2), cacheType);
    }

    private static long AllocatedWhileDecoding(TinyGlmSpec spec, QuantizationScheme scheme, KvCacheType cacheType)
    {
        using var dir = new TempDirectory();
        return AllocatedWhileDecoding(spec.Vocab, new RandomGlmCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), scheme), cacheType);
    }

    /// <summary>glm4_moe_lite: MLA's absorbed attention, its per-head products and the experts; Q8_0 weights, an F16 latent cache.</summary>
    [Fact]
    public void Decoding_An_Mla_Token_Allocates_No_Managed_Memory()
    {
        var spec = new TinyMlaSpec(160, 64, 2, 4, QLora: 64, KvLora: 64, Nope: 32, Rope: 32, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Context: 128);
        using var dir = new TempDirectory();
        Assert.Equal(0, AllocatedWhileDecoding(spec.Vocab, new RandomMlaCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), GgmlType.Q8_0), KvCacheType.F16));
    }

    /// <summary>GLM-5's sparse attention past top-k: the indexer's scoring and selection, a shared layer, the masked latent attention.</summary>
    [Fact]
    public void Decoding_A_Dsa_Token_Past_Top_K_Allocates_No_Managed_Memory()
    {
        var spec = new TinyMlaSpec(160, 64, 2, 4, QLora: 64, KvLora: 64, Nope: 32, Rope: 64, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Context: 128, Dsa: new(Heads: 4, TopK: 16, "FS"));
        using var dir = new TempDirectory();
        Assert.Equal(0, AllocatedWhileDecoding(spec.Vocab, new RandomMlaCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), GgmlType.Q8_0), KvCacheType.F16));
    }

    private static long AllocatedWhileDecoding(int vocab, string gguf, KvCacheType cacheType)
    {
        // A backend of its own: on the shared one, tests running in parallel contend for its locks, and the
        // runtime allocates a lock's wait event the first time a thread has to block on it.
        using var backend = new CpuBackend(threads: 2);
        using var loaded = ModelLoader.Load(gguf, backend);
        using var session = loaded.Model.CreateSession(128, cacheType: cacheType);
        var logits = new float[vocab];
        var token = new int[1];
        loaded.Model.Forward(Enumerable.Range(1, 70).ToArray(), session, logits);
        for (int i = 0; i < 40; i++) loaded.Model.Forward(token, session, logits); // warm-up past the JIT's tier-up (30 calls), scratch sized

        return FewestBytesAllocatedInAWindow(window =>
        {
            for (int i = 0; i < 5; i++)
            {
                token[0] = 5 * window + i + 7;
                loaded.Model.Forward(token, session, logits);
            }
        });
    }

    /// <summary>
    /// The fewest bytes the calling thread allocated over one of three windows of steps. An allocation made by a
    /// step shows in every window; the runtime's one-time work (a lock's first contention, a method's first call
    /// on a rarely taken path under a loaded machine) shows in one, so it cannot fail the test on a busy CI host.
    /// </summary>
    private static long FewestBytesAllocatedInAWindow(Action<int> steps)
    {
        var allocated = new long[3];
        for (int window = 0; window < allocated.Length; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            steps(window);
            allocated[window] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return allocated.Min();
    }

    /// <summary>A decode step of eight sequences, one row each, in one shared context.</summary>
    [Fact]
    public void A_Batched_Decode_Step_Allocates_No_Managed_Memory()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 32, 96, 0.5, Bias: true, Tied: false, Context: 128);
        using var dir = new TempDirectory();
        Assert.Equal(0, AllocatedWhileDecodingEightSequences(
            new RandomGlmCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), QuantizationScheme.Uniform(GgmlType.Q8_0)), spec.Vocab));
    }

    /// <summary>glm4_moe: routing, the grouped expert products and the shared expert, over eight sequences per step.</summary>
    [Fact]
    public void A_Mixture_Of_Experts_Decode_Step_Allocates_No_Managed_Memory()
    {
        var spec = new TinyMoeSpec(160, 64, 3, 8, 2, 32, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 64, SharedExperts: 1, FirstDense: 1, QkNorm: true, Context: 128);
        using var dir = new TempDirectory();
        Assert.Equal(0, AllocatedWhileDecodingEightSequences(new RandomMoeCheckpoint(spec, seed: 1).WriteGguf(dir.File("model.gguf"), GgmlType.Q8_0), spec.Vocab));
    }

    private static long AllocatedWhileDecodingEightSequences(string gguf, int vocab)
    {
        using var backend = new CpuBackend(threads: 2);
        using var loaded = ModelLoader.Load(gguf, backend);
        using var context = loaded.Model.CreateContext(8 * 128);
        var sequences = Enumerable.Range(0, 8).Select(_ => context.Cache.CreateSequence()).ToArray();
        var batch = new Batch(64);
        for (int s = 0; s < sequences.Length; s++) batch.AddSequence(Enumerable.Range(1, 20 + 5 * s).ToArray(), sequences[s], 0);
        var logits = new float[8 * vocab];
        loaded.Model.Decode(batch, context, logits);
        void Step(int token)
        {
            batch.Clear();
            foreach (int s in sequences) batch.Add(token, s, context.Cache.Length(s), wantsLogits: true);
            loaded.Model.Decode(batch, context, logits);
        }
        for (int i = 0; i < 40; i++) Step(3); // warm-up past the JIT's tier-up (30 calls), scratch sized

        return FewestBytesAllocatedInAWindow(window =>
        {
            for (int i = 0; i < 5; i++) Step(5 * window + i + 7);
        });
    }
}
