using System.Buffers.Binary;
using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K / Q5_0 / Q5_1 / IQ4_NL matrices repacked at load for the plain-AVX2 kernels (eight rows interleaved): the same products
/// as the stored layout, exact integer sums at the formats' extreme codes, the layout's own type, and the cases that keep
/// the stored layout.
/// </summary>
public sealed unsafe class RepackedMatrixTests
{
    // Rows in whole groups of eight, with K tails (96, 288, 800, 2080: partial groups of eight blocks) and one matrix of
    // 13 rows, which stays as stored.
    private static readonly (int Outputs, int Inputs)[] Shapes = [(8, 32), (16, 96), (24, 288), (8, 512), (40, 800), (8, 2080), (13, 288)];

    // Q4_K, Q5_K and Q6_K rows are whole 256-value super-blocks: one, two, three and ten of them, and a matrix of 13 rows.
    private static readonly (int Outputs, int Inputs)[] SuperBlockShapes = [(8, 256), (16, 512), (24, 768), (40, 2560), (13, 256)];

    // Every tile of four, two and one token; 70 spans two token chunks. Q4_K from five tokens on goes through the int8
    // prefill tile, its rows put back in the stored layout (Q5_K too); Q6_K stays on its kernel.
    private static readonly int[] TokenCounts = [1, 2, 3, 4, 5, 7, 9, 70];

    private static CpuBackend Avx2() => new(threads: 2, CpuIsa.Avx2, Int8Path.Avx2Maddubs);

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Repacked_Matrix_Matches_Scalar_Reference_Of_The_Stored_One(GgmlType type)
    {
        using var simd = Avx2();
        KernelAgreement.AssertSimdMatchesScalar(simd, type, type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K ? SuperBlockShapes : Shapes, TokenCounts, relative: 1e-4, "repacked", prepared: true);
    }

    /// <summary>
    /// The kernels' arithmetic written out per row: exact integer block sums, then per block
    /// acc = fma(Σ, d_w·d_a, acc) and for Q4_0's offset codes acc = fma(−8·d_w, d_a·Σa, acc). Any order of the
    /// tokens in tiles of four, two or one gives each token the same operations, so the results are equal bit for bit.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Repacked_Kernels_Equal_Their_Scalar_Model_Bit_For_Bit(GgmlType type)
    {
        const int outputs = 24, inputs = 288;
        using var simd = Avx2();
        using var w = new TestMatrix(type, outputs, inputs, seed: 7);
        var repacked = simd.PrepareMatrix(w.View);
        Assert.Equal(RepackedType(type), repacked.Type);
        // Q5_0, Q5_1 and IQ4_NL from five tokens on go through the stored layout's prefill tile, whose arithmetic is another.
        foreach (int tokens in type is GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.IQ4_NL ? new[] { 1, 2, 3, 4 } : [1, 2, 3, 7, 9])
        {
            var x = TestMatrix.RandomActivations(tokens * inputs, seed: 40 + tokens);
            var actual = KernelAgreement.Run(simd, repacked, x, tokens);
            for (int t = 0; t < tokens; t++)
                for (int o = 0; o < outputs; o++)
                    Assert.Equal(Model(type, w.View, o, x.AsSpan(t * inputs, inputs)), actual[t * outputs + o]);
        }
    }

    /// <summary>
    /// The Q4_K and Q5_K kernel's arithmetic written out per row, on Q8_K activations: per super-block the exact integer
    /// sums Σ_s scale_s·Σ q·a and Σ_s min_s·Σ a, then acc = fma(Σ scale·dot, d·d_a, acc) and
    /// acc = fma(−Σ min·sum, dmin·d_a, acc). One to four tokens (the kernel's tiles) give each token the same
    /// operations, so the results are equal bit for bit.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q4_Kx8)]
    [InlineData(GgmlType.Q5_K, GgmlType.Q5_Kx8)]
    public void Repacked_Scale_Min_Kernel_Equals_Its_Scalar_Model_Bit_For_Bit(GgmlType type, GgmlType repackedType)
    {
        const int outputs = 24, inputs = 768;
        using var simd = Avx2();
        using var w = new TestMatrix(type, outputs, inputs, seed: 17);
        var repacked = simd.PrepareMatrix(w.View);
        Assert.Equal(repackedType, repacked.Type);
        foreach (int tokens in new[] { 1, 2, 3, 4 })
        {
            var x = TestMatrix.RandomActivations(tokens * inputs, seed: 50 + tokens);
            var actual = KernelAgreement.Run(simd, repacked, x, tokens);
            for (int t = 0; t < tokens; t++)
                for (int o = 0; o < outputs; o++)
                    Assert.Equal(ScaleMinModel(w.View, o, x.AsSpan(t * inputs, inputs)), actual[t * outputs + o]);
        }
    }

    /// <summary>
    /// The Q6_K kernel's arithmetic written out per row, on Q8_K activations: per super-block the exact integer
    /// Σ_s scale_s·Σ q·a − 32·Σ_s scale_s·sum_s, then acc = fma(it, d·d_a, acc). Any order of the tokens in tiles of
    /// four, two or one gives each token the same operations, so the results are equal bit for bit; the d of some
    /// blocks are subnormal or negative, which the kernel converts without the infinity/NaN path.
    /// </summary>
    [Fact]
    public void Repacked_Q6_K_Kernel_Equals_Its_Scalar_Model_Bit_For_Bit()
    {
        const int outputs = 24, inputs = 768;
        using var simd = Avx2();
        using var w = new TestMatrix(GgmlType.Q6_K, outputs, inputs, seed: 19);
        ushort[] unusual = [0x0001, 0x8001, 0x03ff, 0x83ff, 0xfbff, 0x8000];
        for (int row = 0; row < outputs; row += 5)
            *(ushort*)(w.View.Data + row * GgmlTypeInfo.RowByteSize(GgmlType.Q6_K, inputs) + (row % 3) * Q6_K.BytesPerBlock + 208) = unusual[row / 5 % unusual.Length];
        var repacked = simd.PrepareMatrix(w.View);
        Assert.Equal(GgmlType.Q6_Kx8, repacked.Type);
        foreach (int tokens in new[] { 1, 2, 3, 4, 5, 7, 9 })
        {
            var x = TestMatrix.RandomActivations(tokens * inputs, seed: 60 + tokens);
            var actual = KernelAgreement.Run(simd, repacked, x, tokens);
            for (int t = 0; t < tokens; t++)
                for (int o = 0; o < outputs; o++)
                    Assert.Equal(Q6KModel(w.View, o, x.AsSpan(t * inputs, inputs)), actual[t * outputs + o]);
        }
    }

    private static float Q6KModel(TensorView stored, int row, ReadOnlySpan<float> x)
    {
        int superBlocks = x.Length / 256;
        var (codes, scales, sums) = Q8K(x);
        byte* w = stored.Data + row * GgmlTypeInfo.RowByteSize(GgmlType.Q6_K, x.Length);
        float acc = 0;
        for (int b = 0; b < superBlocks; b++)
        {
            byte* block = w + b * Q6_K.BytesPerBlock;
            int total = 0;
            for (int s = 0; s < 16; s++)
            {
                int scale = (sbyte)block[192 + s], subDot = 0;
                for (int e = 16 * s; e < 16 * s + 16; e++) subDot += ScalarKQuantKernels.Q6Code(block, e) * codes[b * 256 + e];
                total += scale * subDot - 32 * scale * sums[b * 16 + s];
            }
            acc = MathF.FusedMultiplyAdd(total, (float)*(Half*)(block + 208) * scales[b], acc);
        }
        return acc;
    }

    private static (sbyte[] Codes, float[] Scales, short[] Sums) Q8K(ReadOnlySpan<float> x)
    {
        var codes = new sbyte[x.Length];
        var scales = new float[x.Length / 256];
        var sums = new short[x.Length / 16];
        fixed (float* xp = x, sp = scales)
        fixed (sbyte* q = codes)
        fixed (short* sumsp = sums)
            ScalarKQuantKernels.QuantizeActivations(xp, x.Length, q, sp, sumsp);
        return (codes, scales, sums);
    }

    /// <summary>A Q4_K or Q5_K row: Q5_K's fifth bit of element 32s + e is bit s of qh[e] (bytes 16–47), its nibbles after them.</summary>
    private static float ScaleMinModel(TensorView stored, int row, ReadOnlySpan<float> x)
    {
        int superBlocks = x.Length / 256;
        bool fiveBit = stored.Type == GgmlType.Q5_K;
        int blockBytes = GgmlTypeInfo.BytesPerBlock(stored.Type), nibbles = fiveBit ? 48 : 16;
        var (codes, scales, sums) = Q8K(x);
        var block = new ReadOnlySpan<byte>(stored.Data + row * GgmlTypeInfo.RowByteSize(stored.Type, x.Length), superBlocks * blockBytes);
        float acc = 0;
        for (int b = 0; b < superBlocks; b++)
        {
            var sb = block.Slice(b * blockBytes, blockBytes);
            int dot = 0, min = 0;
            for (int s = 0; s < 8; s++)
            {
                var (scale, m) = Q4_K.ScaleMin(sb.Slice(4, 12), s);
                int subDot = 0;
                for (int e = 0; e < 32; e++)
                {
                    int code = (sb[nibbles + 32 * (s / 2) + e] >> (4 * (s % 2))) & 0x0f;
                    if (fiveBit) code |= (sb[16 + e] >> s & 1) << 4;
                    subDot += code * codes[b * 256 + 32 * s + e];
                }
                dot += scale * subDot;
                min += m * (sums[b * 16 + 2 * s] + sums[b * 16 + 2 * s + 1]);
            }
            float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(sb));
            float dmin = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(sb[2..]));
            acc = MathF.FusedMultiplyAdd(dot, d * scales[b], acc);
            acc = MathF.FusedMultiplyAdd(-min, dmin * scales[b], acc);
        }
        return acc;
    }

    /// <summary>
    /// The repacked kernels convert block scales without the infinity/NaN path: subnormal and negative scales
    /// (smallest, largest, and between; Q5_1's mins too) still give the scalar model's results bit for bit.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Subnormal_And_Negative_Scales_Convert_Exactly(GgmlType type)
    {
        const int outputs = 16, inputs = 128;
        using var simd = Avx2();
        using var w = new TestMatrix(type, outputs, inputs, seed: 9);
        ushort[] scales = [0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0xfbff, 0x7bff, 0x8000];
        for (int row = 0; row < outputs; row++)
            for (int block = 0; block < inputs / 32; block++)
            {
                SetScale(w.View, row, block, scales[(row + block) % scales.Length]);
                if (type == GgmlType.Q5_1) SetMin(w.View, row, block, scales[(row + 3 * block + 5) % scales.Length]);
            }
        var repacked = simd.PrepareMatrix(w.View);
        Assert.True(GgmlTypeInfo.IsRepacked(repacked.Type));
        var x = TestMatrix.RandomActivations(3 * inputs, seed: 10);
        var actual = KernelAgreement.Run(simd, repacked, x, 3);
        for (int t = 0; t < 3; t++)
            for (int o = 0; o < outputs; o++)
                Assert.Equal(Model(type, w.View, o, x.AsSpan(t * inputs, inputs)), actual[t * outputs + o]);
    }

    /// <summary>A matrix with an infinite or NaN block scale keeps its stored layout, whose kernels carry them as llama.cpp does.</summary>
    [Theory]
    [InlineData(GgmlType.Q4_0, (ushort)0x7c00)]
    [InlineData(GgmlType.Q8_0, (ushort)0xfc00)]
    [InlineData(GgmlType.Q8_0, (ushort)0x7e01)]
    [InlineData(GgmlType.Q4_K, (ushort)0x7c00)]
    [InlineData(GgmlType.Q5_K, (ushort)0xfe00)]
    [InlineData(GgmlType.Q6_K, (ushort)0xfc00)]
    [InlineData(GgmlType.Q6_K, (ushort)0x7e01)]
    [InlineData(GgmlType.Q5_0, (ushort)0xfe00)]
    [InlineData(GgmlType.Q5_1, (ushort)0x7c00)]
    [InlineData(GgmlType.IQ4_NL, (ushort)0x7c00)]
    public void A_Matrix_With_A_Non_Finite_Scale_Is_Not_Repacked(GgmlType type, ushort scale)
    {
        using var simd = Avx2();
        using var w = new TestMatrix(type, 64, 512, seed: 11);
        SetScale(w.View, 37, 1, scale);
        Assert.Same(w.View, simd.PrepareMatrix(w.View));
    }

    private static GgmlType RepackedType(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => GgmlType.Q4_0x8,
        GgmlType.Q8_0 => GgmlType.Q8_0x8,
        GgmlType.IQ4_NL => GgmlType.IQ4_NLx8,
        GgmlType.Q5_1 => GgmlType.Q5_1x8,
        _ => GgmlType.Q5_0x8,
    };

    /// <summary>The block's fp16 d: first in every block but Q6_K's, which ends with it.</summary>
    private static void SetScale(TensorView matrix, int row, int block, ushort scale) =>
        *(ushort*)(matrix.Data + row * GgmlTypeInfo.RowByteSize(matrix.Type, matrix.Shape[1]) + block * GgmlTypeInfo.BytesPerBlock(matrix.Type)
            + (matrix.Type == GgmlType.Q6_K ? 208 : 0)) = scale;

    private static void SetMin(TensorView matrix, int row, int block, ushort min) =>
        *(ushort*)(matrix.Data + row * GgmlTypeInfo.RowByteSize(matrix.Type, matrix.Shape[1]) + block * GgmlTypeInfo.BytesPerBlock(matrix.Type) + 2) = min;

    /// <summary>
    /// One row of a Q4_0, Q8_0, Q5_0, Q5_1 or IQ4_NL matrix as the repacked kernels compute it, on activations quantized
    /// to 32-value blocks with their sums (rounded to fp16 for Q5_1, as llama.cpp's Q8_1 keeps them).
    /// </summary>
    private static float Model(GgmlType type, TensorView stored, int row, ReadOnlySpan<float> x)
    {
        int blocks = x.Length / 32;
        var codes = new sbyte[x.Length];
        var scales = new float[blocks];
        var sums = new float[blocks];
        fixed (float* xp = x, sp = scales, sumsp = sums)
        fixed (sbyte* q = codes)
            ScalarKernels.QuantizeActivations(xp, x.Length, q, sp, sumsp, halfSums: type == GgmlType.Q5_1);
        long rowBytes = GgmlTypeInfo.RowByteSize(type, x.Length);
        byte* w = stored.Data + row * rowBytes;
        float acc = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* block = w + b * GgmlTypeInfo.BytesPerBlock(type);
            float d = (float)*(Half*)block;
            int dot = 0;
            for (int j = 0; j < 32; j++)
            {
                int code = type switch
                {
                    GgmlType.Q8_0 => (sbyte)block[2 + j],
                    GgmlType.Q4_0 => j < 16 ? block[2 + j] & 0x0f : block[2 + j - 16] >> 4,
                    GgmlType.IQ4_NL => Iq4Nl.Values[j < 16 ? block[2 + j] & 0x0f : block[2 + j - 16] >> 4],
                    GgmlType.Q5_1 => FiveBitCode(block + 4, j),
                    _ => FiveBitCode(block + 2, j),
                };
                dot += code * codes[b * 32 + j];
            }
            acc = MathF.FusedMultiplyAdd(dot, d * scales[b], acc);
            if (type is GgmlType.Q4_0 or GgmlType.Q5_0) acc = MathF.FusedMultiplyAdd(-(d * (type == GgmlType.Q4_0 ? 8f : 16f)), sums[b], acc);
            if (type == GgmlType.Q5_1) acc = MathF.FusedMultiplyAdd((float)*(Half*)(block + 2), sums[b], acc);
        }
        return acc;
    }

    /// <summary>Code <paramref name="j"/> of a Q5_0 / Q5_1 block from its fifth-bit word at <paramref name="bits"/> and the nibbles after it.</summary>
    private static int FiveBitCode(byte* bits, int j) =>
        (j < 16 ? bits[4 + j] & 0x0f : bits[4 + j - 16] >> 4) | (int)(*(uint*)bits >> j & 1) << 4;

    /// <summary>A Q4_K or Q5_K super-block whose dmin (bytes 2–3) is infinite keeps the stored layout too.</summary>
    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    public void A_Scale_Min_Matrix_With_A_Non_Finite_Min_Scale_Is_Not_Repacked(GgmlType type)
    {
        using var simd = Avx2();
        using var w = new TestMatrix(type, 16, 512, seed: 14);
        *(ushort*)(w.View.Data + 9 * GgmlTypeInfo.RowByteSize(type, 512) + GgmlTypeInfo.BytesPerBlock(type) + 2) = 0xfc00;
        Assert.Same(w.View, simd.PrepareMatrix(w.View));
    }

    /// <summary>
    /// Q8_0 codes −128 and 127, Q4_0 and Q4_K nibbles 0 and 15 (Q4_K's and Q5_K's scales and mins 63), Q5_K codes 0 and
    /// 31, Q6_K codes 0 and 63 (scales 127), Q5_0 and Q5_1 codes 0 and 31, IQ4_NL grid values −127 and 113, against activation
    /// codes ±127 whose signs make every product of a block add up: the largest 16-bit sums the kernels form (a Q4_0
    /// block's and a Q4_K sub-block's 30480; a Q8_0 pair's 32512; two Q5_0 chunks' and four Q5_K chunks' 31496; two Q6_K
    /// code vectors' 32004).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Repacked_Kernels_Do_Not_Saturate_On_Extreme_Codes(GgmlType type)
    {
        const int outputs = 8, inputs = 512;
        using var simd = Avx2();
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var w = ExtremeMatrix.Create(type, outputs, inputs);
        var repacked = simd.PrepareMatrix(w.View);
        Assert.True(GgmlTypeInfo.IsRepacked(repacked.Type));
        foreach (int tokens in new[] { 1, 2, 4, 8 })
        {
            var x = new float[tokens * inputs];
            for (int t = 0; t < tokens; t++)
                for (int k = 0; k < inputs; k++) x[t * inputs + k] = w.Negative(t % outputs, k) ? -1f : 1f;
            var expected = KernelAgreement.Run(scalar, w.View, x, tokens);
            var actual = KernelAgreement.Run(simd, repacked, x, tokens);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Abs(expected[i]),
                    $"{type} × {tokens} tokens, output {i}: scalar {expected[i]}, repacked {actual[i]}");
        }
    }

    [Fact]
    public void Only_Q4_0_Q8_0_Q4_K_Q5_K_Q6_K_Q5_0_Q5_1_And_IQ4_NL_Matrices_Of_Whole_Groups_Are_Repacked_And_Only_On_Plain_Avx2()
    {
        using var simd = Avx2();
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var q4 = new TestMatrix(GgmlType.Q4_0, 16, 64, seed: 1);
        using var q8 = new TestMatrix(GgmlType.Q8_0, 16, 64, seed: 2);
        using var q4k = new TestMatrix(GgmlType.Q4_K, 16, 256, seed: 2);
        using var q6k = new TestMatrix(GgmlType.Q6_K, 16, 256, seed: 2);
        using var q3k = new TestMatrix(GgmlType.Q3_K, 16, 256, seed: 2);
        using var q5 = new TestMatrix(GgmlType.Q5_0, 16, 64, seed: 2);
        using var odd = new TestMatrix(GgmlType.Q4_0, 12, 64, seed: 3);
        using var f16 = new TestMatrix(GgmlType.F16, 16, 64, seed: 4);

        var q4Repacked = simd.PrepareMatrix(q4.View);
        Assert.Equal(GgmlType.Q4_0x8, q4Repacked.Type);
        Assert.Equal(q4.View.Shape, q4Repacked.Shape);
        Assert.Equal(q4.View.ByteLength, q4Repacked.ByteLength);
        Assert.Equal(GgmlType.Q8_0x8, simd.PrepareMatrix(q8.View).Type);
        var q4kRepacked = simd.PrepareMatrix(q4k.View);
        Assert.Equal(GgmlType.Q4_Kx8, q4kRepacked.Type);
        Assert.Equal(q4k.View.ByteLength, q4kRepacked.ByteLength);
        using var q5k = new TestMatrix(GgmlType.Q5_K, 16, 256, seed: 2);
        var q5kRepacked = simd.PrepareMatrix(q5k.View);
        Assert.Equal(GgmlType.Q5_Kx8, q5kRepacked.Type);
        Assert.Equal(q5k.View.ByteLength, q5kRepacked.ByteLength);
        var q6kRepacked = simd.PrepareMatrix(q6k.View);
        Assert.Equal(GgmlType.Q6_Kx8, q6kRepacked.Type);
        Assert.Equal(q6k.View.ByteLength, q6kRepacked.ByteLength);
        using var oddQ6k = new TestMatrix(GgmlType.Q6_K, 12, 256, seed: 3);
        Assert.Same(oddQ6k.View, simd.PrepareMatrix(oddQ6k.View));
        Assert.Same(q3k.View, simd.PrepareMatrix(q3k.View));
        var q5Repacked = simd.PrepareMatrix(q5.View);
        Assert.Equal(GgmlType.Q5_0x8, q5Repacked.Type);
        Assert.Equal(q5.View.ByteLength, q5Repacked.ByteLength);
        using var q51 = new TestMatrix(GgmlType.Q5_1, 16, 64, seed: 2);
        Assert.Equal(GgmlType.Q5_1x8, simd.PrepareMatrix(q51.View).Type);
        using var q41 = new TestMatrix(GgmlType.Q4_1, 16, 64, seed: 2);
        Assert.Same(q41.View, simd.PrepareMatrix(q41.View));
        using var iq4 = new TestMatrix(GgmlType.IQ4_NL, 16, 64, seed: 2);
        Assert.Equal(GgmlType.IQ4_NLx8, simd.PrepareMatrix(iq4.View).Type);
        Assert.Same(odd.View, simd.PrepareMatrix(odd.View));
        Assert.Same(f16.View, simd.PrepareMatrix(f16.View));
        Assert.Same(q4.View, scalar.PrepareMatrix(q4.View));
        if (CpuIsaSupport.IsSupported(CpuIsa.Avx512))
        {
            using var avx512 = new CpuBackend(threads: 1, CpuIsa.Avx512);
            Assert.Same(q4.View, avx512.PrepareMatrix(q4.View));
        }
    }

    [Fact]
    public void A_Repacked_Matrix_Has_No_Separate_Rows_And_No_File_Type()
    {
        using var simd = Avx2();
        using var w = new TestMatrix(GgmlType.Q4_0, 16, 64, seed: 5);
        var repacked = simd.PrepareMatrix(w.View);
        Assert.Contains("repacked", Assert.Throws<InvalidOperationException>(() => repacked.Rows(0, 8)).Message);
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q4_0x8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q8_0x8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q4_Kx8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q5_0x8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.IQ4_NLx8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q6_Kx8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q5_Kx8));
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.Q5_1x8));
        Assert.Equal(GgmlType.Q5_1, GgmlTypeInfo.StoredType(GgmlType.Q5_1x8));
        Assert.Equal(GgmlType.Q5_K, GgmlTypeInfo.StoredType(GgmlType.Q5_Kx8));
        Assert.Equal(GgmlType.Q6_K, GgmlTypeInfo.StoredType(GgmlType.Q6_Kx8));
        Assert.Equal(GgmlType.Q4_0, GgmlTypeInfo.StoredType(GgmlType.Q4_0x8));
        Assert.Equal(GgmlType.Q4_K, GgmlTypeInfo.StoredType(GgmlType.Q4_Kx8));
        Assert.Equal(GgmlType.Q5_0, GgmlTypeInfo.StoredType(GgmlType.Q5_0x8));
        Assert.Equal(GgmlType.IQ4_NL, GgmlTypeInfo.StoredType(GgmlType.IQ4_NLx8));
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Gathered_Rows_Of_A_Repacked_Matrix_Equal_The_Stored_Rows(GgmlType type)
    {
        const int outputs = 16;
        int inputs = type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K ? 512 : 96;
        using var simd = Avx2();
        using var w = new TestMatrix(type, outputs, inputs, seed: 6);
        var repacked = simd.PrepareMatrix(w.View);
        var ids = Enumerable.Range(0, outputs).ToArray();
        var expected = simd.Allocate<float>(outputs * inputs);
        var actual = simd.Allocate<float>(outputs * inputs);
        simd.GatherRows(w.View, ids, expected);
        simd.GatherRows(repacked, ids, actual);
        Assert.Equal(simd.ToArray(expected), simd.ToArray(actual));
    }

    [Fact]
    public void A_Backend_Without_The_Repacked_Kernels_Refuses_A_Repacked_Matrix()
    {
        using var simd = Avx2();
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var w = new TestMatrix(GgmlType.Q8_0, 8, 64, seed: 8);
        var repacked = simd.PrepareMatrix(w.View);
        var e = Assert.Throws<ArgumentException>(() => scalar.MatMul([repacked], new float[64], 1));
        Assert.Contains("Avx2Maddubs", e.Message);
    }

    /// <summary>
    /// A matrix repacked from a GGUF file lets its mapped pages go (they would stay resident beside the copy); they are
    /// dropped from the process only, so the stored view still reads the file's bytes, and the copy multiplies as the
    /// stored matrix does.
    /// </summary>
    [Fact]
    public void A_Matrix_Repacked_From_A_File_Still_Reads_The_File_Through_Its_Stored_View()
    {
        const int outputs = 256, inputs = 512;
        using var dir = new TempDirectory();
        var values = TestMatrix.RandomActivations(outputs * inputs, seed: 12);
        var writer = new GgufWriter();
        writer.AddTensorFromFloats("w", GgmlType.Q4_0, [outputs, inputs], values);
        writer.WriteTo(dir.File("w.gguf"));
        using var file = GgufFile.Open(dir.File("w.gguf"));
        var stored = file.GetTensor("w");
        Assert.True(stored.FileMapped);
        var bytes = File.ReadAllBytes(dir.File("w.gguf")).AsSpan((int)(file.DataOffset + file.Tensors[0].Offset), (int)stored.ByteLength).ToArray();

        using var simd = Avx2();
        var repacked = simd.PrepareMatrix(stored);

        Assert.Equal(GgmlType.Q4_0x8, repacked.Type);
        Assert.True(new ReadOnlySpan<byte>(stored.Data, (int)stored.ByteLength).SequenceEqual(bytes));
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        var x = TestMatrix.RandomActivations(3 * inputs, seed: 13);
        var expected = KernelAgreement.Run(scalar, stored, x, 3);
        var actual = KernelAgreement.Run(simd, repacked, x, 3);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * inputs + 1e-4 * Math.Abs(expected[i]), $"output {i}: scalar {expected[i]}, repacked {actual[i]}");
    }
}
