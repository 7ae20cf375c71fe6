using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Eight Q4_K or Q5_K rows in the <see cref="ScaleMinRepack"/> layout times one, two or four Q8_K activation rows, on
/// plain AVX2, with the eight 32-bit lanes of every vector as the eight output rows, as <see cref="RepackedInt8Kernels"/>
/// does for Q4_0. Per super-block the transposed scale bytes give each sub-block's 6-bit scales and mins of all eight
/// rows in a few vector operations, shared by the tokens; a chunk's codes (Q5_K's low ones by one mask, its high ones
/// from three bits of the chunk and two of its top-bit chunk) meet four broadcast activation bytes through vpmaddubsw. Chunks add their 16-bit pair sums (eight
/// 4-bit ones make at most 8·2·15·127 = 30480, four 5-bit ones 4·2·31·127 = 31496: no saturation), and one vpmaddwd
/// with the rows' scale in both halves of each lane makes them scaled 32-bit sums. The mins meet the activation sums of
/// each 16 values the same way: one vpmaddwd per sub-block. Both integer sums are exact; a super-block ends in two
/// FMAs: d·d_a·Σ scale·dot − dmin·d_a·Σ min·sum.
/// </summary>
internal static unsafe class RepackedKQuantKernels
{
    private const int Rows = Int8Repack.Rows, ChunkBytes = ScaleMinRepack.ChunkBytes;

    /// <summary>
    /// y[t·yStride + r] = Σ_k w[r, k]·x[t, k] for the eight rows of the <typeparamref name="TCodes"/> group at
    /// <paramref name="w"/> and the <typeparamref name="TTile"/> activation rows t: codes <paramref name="codeStride"/>
    /// bytes apart, super-block scales <paramref name="scaleStride"/> floats apart, 16-value sums
    /// <paramref name="sumStride"/> shorts apart.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotScaleMin<TTile, TCodes>(byte* w, int superBlocks, sbyte* a, int codeStride, float* da, int scaleStride, short* sums, int sumStride,
        float* y, int yStride) where TTile : struct, ITokenTile where TCodes : struct, IScaleMinCodes
    {
        int n = TTile.Count, blockBytes = Rows * TCodes.BlockBytes;
        var tokens = new Q8KTokenRows(a, codeStride, sums, sumStride);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < superBlocks; b++, w += blockBytes)
        {
            StreamPrefetch.Ahead(w, blockBytes);
            var (scalesLow, scalesHigh, minsLow, minsHigh) = ScalesAndMins(w + ScaleMinRepack.ScalesOffset);
            var dots = new TileSums();
            var mins = new TileSums();
            // Written out per 64-value chunk, so that every half, offset and fifth-bit shift below is a constant.
            SubBlockPair<TTile, TCodes>(w, tokens, scalesLow, minsLow, 0, ref dots, ref mins);
            SubBlockPair<TTile, TCodes>(w, tokens, scalesLow, minsLow, 1, ref dots, ref mins);
            SubBlockPair<TTile, TCodes>(w, tokens, scalesHigh, minsHigh, 2, ref dots, ref mins);
            SubBlockPair<TTile, TCodes>(w, tokens, scalesHigh, minsHigh, 3, ref dots, ref mins);
            var d = HalfFloat.FiniteToSingle(Avx2.ConvertToVector256Int32((ushort*)w).AsUInt32());
            var dmin = HalfFloat.FiniteToSingle(Avx2.ConvertToVector256Int32((ushort*)w + Rows).AsUInt32());
            f0 = AddBlock(f0, dots.T0, mins.T0, d, dmin, da[b]);
            if (n > 1) f1 = AddBlock(f1, dots.T1, mins.T1, d, dmin, da[b + scaleStride]);
            if (n > 2)
            {
                f2 = AddBlock(f2, dots.T2, mins.T2, d, dmin, da[b + 2 * scaleStride]);
                f3 = AddBlock(f3, dots.T3, mins.T3, d, dmin, da[b + 3 * scaleStride]);
            }
            tokens = tokens.NextSuperBlock();
        }
        RepackedInt8Kernels.StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>
    /// Sub-blocks 2<paramref name="j"/> (low nibbles) and 2j + 1 (high) of every token: their scales and mins from one
    /// 16-byte half of <paramref name="scales"/> / <paramref name="minCodes"/>, copied to both halves of the vector; each
    /// chunk's codes split once, then met by each token. The eight chunks' pair sums are scaled at once for 4-bit codes,
    /// in two runs of four for 5-bit ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubBlockPair<TTile, TCodes>(byte* w, Q8KTokenRows tokens, Vector256<byte> scales, Vector256<byte> minCodes, int j,
        ref TileSums dots, ref TileSums mins) where TTile : struct, ITokenTile where TCodes : struct, IScaleMinCodes
    {
        int n = TTile.Count;
        var nibbles = Vector256.Create((byte)0x0f);
        var fiveBits = Vector256.Create((byte)0x1f);
        var threeBits = Vector256.Create((byte)0x07);
        var topTwoBits = Vector256.Create((byte)0x18);
        var scaleHalf = HalfOf(scales, j & 1);
        var minHalf = HalfOf(minCodes, j & 1);
        var evenScales = Avx2.Shuffle(scaleHalf, EvenSubBlock).AsInt16();
        var oddScales = Avx2.Shuffle(scaleHalf, OddSubBlock).AsInt16();
        var evenMins = Avx2.Shuffle(minHalf, EvenSubBlock).AsInt16();
        var oddMins = Avx2.Shuffle(minHalf, OddSubBlock).AsInt16();
        Vector256<short> low0 = default, low1 = default, low2 = default, low3 = default;
        Vector256<short> high0 = default, high1 = default, high2 = default, high3 = default;
        byte* chunk = w + ScaleMinRepack.CodesOffset(TCodes.HasFifthBits) + 8 * j * ChunkBytes;
        byte* topBits = w + ScaleMinRepack.TopBitsOffset;
        sbyte* at = tokens.Codes + 64 * j;
        nint stride = tokens.CodeStride;
        // Pointers walk the chunks: index arithmetic was a quarter of the loop's instructions.
        int runs = TCodes.HasFifthBits ? 2 : 1;
        for (int run = 0; run < runs; run++)
        {
            for (int c = 0; c < 8 / runs; c++, chunk += ChunkBytes, topBits += ChunkBytes, at += 4)
            {
                var packed = Vector256.Load(chunk);
                Vector256<byte> low, high;
                if (TCodes.HasFifthBits)
                {
                    low = packed & fiveBits;
                    high = (Vector256.ShiftRightLogical(packed.AsUInt16(), 5).AsByte() & threeBits)
                        | (ToBitThree(Vector256.Load(topBits).AsUInt16(), 2 * j) & topTwoBits);
                }
                else
                {
                    low = packed & nibbles;
                    high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbles;
                }
                low0 += Avx2.MultiplyAddAdjacent(low, Broadcast(at));
                high0 += Avx2.MultiplyAddAdjacent(high, Broadcast(at + 32));
                if (n > 1)
                {
                    low1 += Avx2.MultiplyAddAdjacent(low, Broadcast(at + stride));
                    high1 += Avx2.MultiplyAddAdjacent(high, Broadcast(at + stride + 32));
                }
                if (n > 2)
                {
                    low2 += Avx2.MultiplyAddAdjacent(low, Broadcast(at + 2 * stride));
                    high2 += Avx2.MultiplyAddAdjacent(high, Broadcast(at + 2 * stride + 32));
                    low3 += Avx2.MultiplyAddAdjacent(low, Broadcast(at + 3 * stride));
                    high3 += Avx2.MultiplyAddAdjacent(high, Broadcast(at + 3 * stride + 32));
                }
            }
            AddScaled<TTile>(ref dots, low0, low1, low2, low3, high0, high1, high2, high3, evenScales, oddScales);
            low0 = low1 = low2 = low3 = high0 = high1 = high2 = high3 = default;
        }
        // The 16-value sums of sub-block s are shorts 2s and 2s + 1 of the token's super-block: one broadcast pair.
        short* sums = tokens.Sums + 4 * j;
        int sumStride = tokens.SumStride;
        mins.T0 += Avx2.MultiplyAddAdjacent(SumPair(sums), evenMins) + Avx2.MultiplyAddAdjacent(SumPair(sums + 2), oddMins);
        if (n > 1) mins.T1 += Avx2.MultiplyAddAdjacent(SumPair(sums + sumStride), evenMins) + Avx2.MultiplyAddAdjacent(SumPair(sums + sumStride + 2), oddMins);
        if (n > 2)
        {
            mins.T2 += Avx2.MultiplyAddAdjacent(SumPair(sums + 2 * sumStride), evenMins) + Avx2.MultiplyAddAdjacent(SumPair(sums + 2 * sumStride + 2), oddMins);
            mins.T3 += Avx2.MultiplyAddAdjacent(SumPair(sums + 3 * sumStride), evenMins) + Avx2.MultiplyAddAdjacent(SumPair(sums + 3 * sumStride + 2), oddMins);
        }
    }

    /// <summary>Each token's 16-bit pair sums of the even (low) and odd (high) sub-block, scaled and widened into its dot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled<TTile>(ref TileSums dots, Vector256<short> low0, Vector256<short> low1, Vector256<short> low2, Vector256<short> low3,
        Vector256<short> high0, Vector256<short> high1, Vector256<short> high2, Vector256<short> high3, Vector256<short> evenScales,
        Vector256<short> oddScales) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        dots.T0 += Avx2.MultiplyAddAdjacent(low0, evenScales) + Avx2.MultiplyAddAdjacent(high0, oddScales);
        if (n > 1) dots.T1 += Avx2.MultiplyAddAdjacent(low1, evenScales) + Avx2.MultiplyAddAdjacent(high1, oddScales);
        if (n > 2)
        {
            dots.T2 += Avx2.MultiplyAddAdjacent(low2, evenScales) + Avx2.MultiplyAddAdjacent(high2, oddScales);
            dots.T3 += Avx2.MultiplyAddAdjacent(low3, evenScales) + Avx2.MultiplyAddAdjacent(high3, oddScales);
        }
    }

    /// <summary>
    /// Bits <paramref name="bit"/> and <paramref name="bit"/> + 1 (0–7) of every byte moved to bits 3–4 by a 16-bit shift
    /// of at most three places: what crosses from the neighbouring byte lands in bits 0–2 or 5–7, which the caller's
    /// mask drops.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ToBitThree(Vector256<ushort> bits, int bit) =>
        (bit <= 3 ? Vector256.ShiftLeft(bits, 3 - bit) : Vector256.ShiftRightLogical(bits, bit - 3)).AsByte();

    /// <summary>
    /// The 6-bit scales and mins of the eight rows from the transposed packed bytes P[k][r] (Q4_K's get_scale_min_k4 on
    /// vectors): scales of sub-blocks 0–3 are P[0–3] &amp; 63 and of 4–7 P[8–11] &amp; 15 with the top bits of P[0–3] above
    /// them; mins likewise from P[4–7] and the high nibbles of P[8–11]. Each result holds sub-block s, row r at byte 8s + r
    /// (s counted within its four).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> ScalesLow, Vector256<byte> ScalesHigh, Vector256<byte> MinsLow, Vector256<byte> MinsHigh) ScalesAndMins(byte* packed)
    {
        var p0 = Vector256.Load(packed);
        var p1 = Vector256.Load(packed + 32);
        var p2 = Vector256.Load(packed + 64);
        var six = Vector256.Create((byte)63);
        var four = Vector256.Create((byte)15);
        var two = Vector256.Create((byte)3);
        var topOfScales = Vector256.ShiftLeft(Vector256.ShiftRightLogical(p0.AsUInt16(), 6).AsByte() & two, 4);
        var topOfMins = Vector256.ShiftLeft(Vector256.ShiftRightLogical(p1.AsUInt16(), 6).AsByte() & two, 4);
        var highNibbles = Vector256.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & four;
        return (p0 & six, (p2 & four) | topOfScales, p1 & six, highNibbles | topOfMins);
    }

    /// <summary>The low (<paramref name="half"/> 0) or high 16 bytes of <paramref name="v"/> in both halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HalfOf(Vector256<byte> v, int half) =>
        half == 0 ? Avx2.Permute4x64(v.AsUInt64(), 0b01_00_01_00).AsByte() : Avx2.Permute4x64(v.AsUInt64(), 0b11_10_11_10).AsByte();

    /// <summary>vpshufb patterns spreading byte r of a 16-byte half (even sub-block) or byte 8 + r (odd) over both 16-bit halves of lane r.</summary>
    private static Vector256<byte> EvenSubBlock { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3, 0x80, 4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7, 0x80); }

    private static Vector256<byte> OddSubBlock { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)8, 0x80, 8, 0x80, 9, 0x80, 9, 0x80, 10, 0x80, 10, 0x80, 11, 0x80, 11, 0x80, 12, 0x80, 12, 0x80, 13, 0x80, 13, 0x80, 14, 0x80, 14, 0x80, 15, 0x80, 15, 0x80); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* a) => Vector256.Create(*(int*)a).AsSByte();

    /// <summary>Two 16-value activation sums in every lane: the two halves of a sub-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SumPair(short* sums) => Vector256.Create(*(int*)sums).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<int> min, Vector256<float> d, Vector256<float> dmin, float da)
    {
        var scale = Vector256.Create(da);
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), d * scale, acc);
        return Fma.MultiplyAddNegated(Vector256.ConvertToSingle(min), dmin * scale, acc);
    }
}
