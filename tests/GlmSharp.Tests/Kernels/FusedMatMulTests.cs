using GlmSharp.Tests.Support;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Projections of one input multiplied as one operation (a layer's q, k and v) give, bit for bit, what each
/// multiplication gives alone: the input is prepared once in the same way and every row goes through the same
/// kernel. Weights of different types (Q4_K_M keeps some v projections in Q6_K) are multiplied one at a time.
/// </summary>
public sealed class FusedMatMulTests
{
    public static TheoryData<GgmlType> Types() =>
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL, GgmlType.Q4_K,
         GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.MXFP4, GgmlType.NVFP4];

    [Theory]
    [MemberData(nameof(Types))]
    public void Fused_Projections_Equal_Separate_Ones(GgmlType type) => AssertFusedEqualsSeparate(type, type, type);

    [Fact]
    public void Projections_Of_Different_Types_Equal_Separate_Ones() => AssertFusedEqualsSeparate(GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K);

    [Fact]
    public void Projections_Of_Different_Widths_Are_Refused()
    {
        using var backend = new CpuBackend(threads: 1);
        using var a = new TestMatrix(GgmlType.F32, 4, 64, seed: 1);
        using var b = new TestMatrix(GgmlType.F32, 4, 32, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => backend.MatMul([a.View, b.View], new float[64], 1));
        Assert.Contains("takes 32 inputs", e.Message);
    }

    private static void AssertFusedEqualsSeparate(GgmlType queryType, GgmlType keyType, GgmlType valueType)
    {
        const int inputs = 512;
        using var backend = new CpuBackend(threads: 2);
        using var query = new TestMatrix(queryType, 64, inputs, seed: 3);
        using var key = new TestMatrix(keyType, 16, inputs, seed: 4);
        using var value = new TestMatrix(valueType, 20, inputs, seed: 5);
        foreach (int tokens in new[] { 1, 3, 70 })
        {
            var x = TestMatrix.RandomActivations(tokens * inputs, seed: tokens);
            var expected = KernelAgreement.Run(backend, query.View, x, tokens)
                .Concat(KernelAgreement.Run(backend, key.View, x, tokens))
                .Concat(KernelAgreement.Run(backend, value.View, x, tokens)).ToArray();
            var actual = backend.MatMul([query.View, key.View, value.View], x, tokens);
            Assert.True(expected.SequenceEqual(actual), $"{queryType}/{keyType}/{valueType} × {tokens} tokens: fused projections differ from separate ones");
        }
    }
}
