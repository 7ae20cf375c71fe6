using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Two or three tokens (a decode step of a few sequences, an MTP verification step, the rows a batched step routes to
/// one expert) go through the one-token decode kernels, so each token's outputs equal its outputs alone bit for bit.
/// The prefill tile, which would take them otherwise, sums in another order and misses that in the last bits.
/// </summary>
public sealed class SmallBatchTests
{
    public static TheoryData<GgmlType> StoredTypes() =>
    [
        GgmlType.Q8_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
        GgmlType.IQ4_XS, GgmlType.IQ3_S, GgmlType.IQ2_XXS, GgmlType.MXFP4, GgmlType.NVFP4,
    ];

    [Theory]
    [MemberData(nameof(StoredTypes))]
    public void Each_Token_Of_A_Small_Batch_Equals_That_Token_Alone_Bit_For_Bit(GgmlType type)
    {
        const int outputs = 37, inputs = 768;
        using var avx2 = new CpuBackend(threads: 2, CpuIsa.Avx2, Int8Path.Avx2Maddubs);
        using var w = new TestMatrix(type, outputs, inputs, seed: 3);
        foreach (int tokens in new[] { 2, 3 })
        {
            var x = TestMatrix.RandomActivations(tokens * inputs, seed: 60 + tokens);
            var batch = KernelAgreement.Run(avx2, w.View, x, tokens);
            for (int t = 0; t < tokens; t++)
            {
                var alone = KernelAgreement.Run(avx2, w.View, x[(t * inputs)..((t + 1) * inputs)], 1);
                for (int o = 0; o < outputs; o++)
                    Assert.True(alone[o] == batch[t * outputs + o],
                        $"{type} × {tokens} tokens, token {t} output {o}: batch {batch[t * outputs + o]}, alone {alone[o]}");
            }
        }
    }
}
