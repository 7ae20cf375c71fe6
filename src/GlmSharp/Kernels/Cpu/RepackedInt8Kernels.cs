using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>How many activation rows one pass of a repacked kernel multiplies: each is a generic instance of its own.</summary>
internal interface ITokenTile
{
    static abstract int Count { get; }
}

internal readonly struct OneToken : ITokenTile
{
    public static int Count => 1;
}

internal readonly struct TwoTokens : ITokenTile
{
    public static int Count => 2;
}

internal readonly struct FourTokens : ITokenTile
{
    public static int Count => 4;
}

/// <summary>
/// Eight weight rows of a <see cref="Int8Repack"/> layout times one, two or four activation rows (natural layout),
/// on plain AVX2: a 32-byte chunk of 4-bit codes meets four broadcast activation bytes through vpmaddubsw, its eight
/// 32-bit lanes being eight output rows, so each block ends in one vector of eight row sums — scaled by the eight row
/// scales times the token's scale in one FMA, and nothing is summed across lanes. For 4-bit codes the vpmaddubsw pair
/// sums of a block stay in 16 bits: a pair of codes ≤ 15 times activations ≤ 127 in magnitude is at most 3810, and a
/// block adds eight of them per lane (at most 30480), so nothing saturates and the integer sums are exact.
/// <para>
/// Q4_0: the low and high nibbles of a chunk are elements 4c… and 16+4c… of eight rows, eight vpmaddubsw per block and
/// token, and the codes' offset 8 comes back per block as d_w·8·(d_a·Σa), with d_a·Σa stored beside the activation
/// block. Q8_0 keeps its signed codes (see <see cref="DotQ8_0{TTile}"/>).
/// </para>
/// </summary>
internal static unsafe class RepackedInt8Kernels
{
    private const int Block = Int8Kernels.Block;
    private const int ScaleBytes = Int8Repack.Rows * sizeof(ushort);
    private const int ChunkBytes = 32;
    private const int Q4_0BlockBytes = ScaleBytes + Int8Repack.Rows * Block / 2;
    private const int Q8_0BlockBytes = ScaleBytes + Int8Repack.Rows * Block;

    /// <summary>
    /// y[t·yStride + r] = Σ_k w[r, k]·x[t, k] for the eight rows of the Q4_0 group at <paramref name="w"/> and
    /// <typeparamref name="TTile"/> activation rows t (codes <paramref name="codeStride"/> bytes apart, scales and sums
    /// <paramref name="scaleStride"/> blocks apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotQ4_0<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, float* sums, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var mask = Vector256.Create((byte)0x0f);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += Q4_0BlockBytes)
        {
            StreamPrefetch.Ahead(w, Q4_0BlockBytes);
            Vector256<short> i0 = default, i1 = default, i2 = default, i3 = default;
            sbyte* ab = a + b * Block;
            for (int c = 0; c < Block / 2 / 4; c++)
            {
                var packed = Vector256.Load(w + ScaleBytes + c * ChunkBytes);
                var low = packed & mask;
                var high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask;
                sbyte* ac = ab + 4 * c;
                i0 += NibblePair(low, high, ac);
                if (n > 1) i1 += NibblePair(low, high, ac + codeStride);
                if (n > 2)
                {
                    i2 += NibblePair(low, high, ac + 2 * codeStride);
                    i3 += NibblePair(low, high, ac + 3 * codeStride);
                }
            }
            var d = RowScales(w);
            var offset = d * 8f;
            f0 = AddBlock(f0, Widen(i0), d, offset, scales + b, sums + b);
            if (n > 1) f1 = AddBlock(f1, Widen(i1), d, offset, scales + scaleStride + b, sums + scaleStride + b);
            if (n > 2)
            {
                f2 = AddBlock(f2, Widen(i2), d, offset, scales + 2 * scaleStride + b, sums + 2 * scaleStride + b);
                f3 = AddBlock(f3, Widen(i3), d, offset, scales + 3 * scaleStride + b, sums + 3 * scaleStride + b);
            }
        }
        Store(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>
    /// <see cref="DotQ4_0{TTile}"/> for a Q8_0 group, whose codes stay signed: each chunk's magnitudes are taken once
    /// for all tokens, and each token's broadcast activations take the codes' signs (vpsignb) before vpmaddubsw. A
    /// magnitude of at most 128 times an activation of at most 127, two at a time, fills 16 bits, so every product pair
    /// is widened (vpmaddwd) before it is added; the sums are exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotQ8_0<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var ones = Vector256.Create((short)1);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += Q8_0BlockBytes)
        {
            StreamPrefetch.Ahead(w, Q8_0BlockBytes);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            sbyte* ab = a + b * Block;
            for (int c = 0; c < Block / 4; c++)
            {
                var codes = Vector256.Load((sbyte*)w + ScaleBytes + c * ChunkBytes);
                var magnitudes = Avx2.Abs(codes);
                sbyte* ac = ab + 4 * c;
                i0 += SignedChunk(codes, magnitudes, ac, ones);
                if (n > 1) i1 += SignedChunk(codes, magnitudes, ac + codeStride, ones);
                if (n > 2)
                {
                    i2 += SignedChunk(codes, magnitudes, ac + 2 * codeStride, ones);
                    i3 += SignedChunk(codes, magnitudes, ac + 3 * codeStride, ones);
                }
            }
            var d = RowScales(w);
            f0 = AddBlock(f0, i0, d, scales + b);
            if (n > 1) f1 = AddBlock(f1, i1, d, scales + scaleStride + b);
            if (n > 2)
            {
                f2 = AddBlock(f2, i2, d, scales + 2 * scaleStride + b);
                f3 = AddBlock(f3, i3, d, scales + 3 * scaleStride + b);
            }
        }
        Store(f0, f1, f2, f3, n, y, yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SignedChunk(Vector256<sbyte> codes, Vector256<byte> magnitudes, sbyte* a, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(Broadcast(a), codes)), ones);

    /// <summary>Four activation bytes at <paramref name="a"/> in every 32-bit lane (one vpbroadcastd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* a) => Vector256.Create(*(int*)a).AsSByte();

    /// <summary>Low nibbles times elements 4c… of the block, high nibbles times elements 16 + 4c…, as 16-bit pair sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> NibblePair(Vector256<byte> low, Vector256<byte> high, sbyte* a) =>
        Avx2.MultiplyAddAdjacent(low, Broadcast(a)) + Avx2.MultiplyAddAdjacent(high, Broadcast(a + Block / 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Widen(Vector256<short> sums) => Avx2.MultiplyAddAdjacent(sums, Vector256.Create((short)1));

    /// <summary>The eight row scales of a block, from the fp16 values that open it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RowScales(byte* w) => HalfFloat.ToSingle(Avx2.ConvertToVector256Int32((ushort*)w).AsUInt32());

    /// <summary>acc + d_w·d_a·Σw·a for one block of eight rows and one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<float> d, float* scale) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), d * Vector256.Create(*scale), acc);

    /// <summary>
    /// acc + d_w·d_a·Σu·a − d_w·8·(d_a·Σa) for one Q4_0 block of eight rows and one token: the codes u = w + 8 as stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<float> d, Vector256<float> offset,
        float* scale, float* sum) =>
        Fma.MultiplyAddNegated(offset, Vector256.Create(*sum), AddBlock(acc, dot, d, scale));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> f0, Vector256<float> f1, Vector256<float> f2, Vector256<float> f3, int n, float* y, int yStride)
    {
        f0.Store(y);
        if (n > 1) f1.Store(y + yStride);
        if (n > 2)
        {
            f2.Store(y + 2 * yStride);
            f3.Store(y + 3 * yStride);
        }
    }
}
