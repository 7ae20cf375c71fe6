using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Two or three tokens (a decode step of a few sequences, an MTP verification step, the rows a batched step routes to
/// one expert) go through the one-token decode kernels, or kernels that unpack a weight row once and give each token
/// the one-token arithmetic in its order, so each token's outputs equal its outputs alone bit for bit (one-scale block
/// types up to four tokens).
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
    public void Each_Token_Of_A_Small_Batch_Equals_That_Token_Alone_Bit_For_Bit(GgmlType type) => AssertBatchEqualsAlone(type, inputs: 768);

    /// <summary>Rows whose block count leaves one, two or three blocks after the four-block steps of the one-scale kernels.</summary>
    [Theory]
    [InlineData(GgmlType.Q5_0, 21)]
    [InlineData(GgmlType.Q5_0, 22)]
    [InlineData(GgmlType.Q4_1, 23)]
    [InlineData(GgmlType.Q5_1, 21)]
    [InlineData(GgmlType.IQ4_NL, 22)]
    [InlineData(GgmlType.MXFP4, 23)]
    [InlineData(GgmlType.MXFP4, 1)]
    public void One_Scale_Block_Rows_With_Tail_Blocks_Equal_Their_Tokens_Alone(GgmlType type, int blocks) =>
        AssertBatchEqualsAlone(type, inputs: 32 * blocks);

    private static void AssertBatchEqualsAlone(GgmlType type, int inputs)
    {
        const int outputs = 37;
        using var avx2 = new CpuBackend(threads: 2, CpuIsa.Avx2, Int8Path.Avx2Maddubs);
        using var w = new TestMatrix(type, outputs, inputs, seed: 3);
        int largest = type is GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.IQ4_NL or GgmlType.MXFP4 ? 4 : 3;
        for (int tokens = 2; tokens <= largest; tokens++)
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
