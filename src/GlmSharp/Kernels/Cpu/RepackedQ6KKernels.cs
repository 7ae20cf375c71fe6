using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Eight Q6_K rows in the <see cref="Q6KRepack"/> layout times one, two or four Q8_K activation rows, on plain AVX2, with
/// the eight 32-bit lanes of every vector as the eight output rows (as <see cref="RepackedKQuantKernels"/> does for
/// Q4_K). A sub-block's four vectors of codes (6-bit, unsigned) meet four broadcast activation bytes each through
/// vpmaddubsw; two of their 16-bit pair sums add without saturating (2·2·63·127 = 32004), and one vpmaddwd per two
/// applies the eight rows' scale of the sub-block while widening. Q6_K's codes are q + 32: Σ(q − 32)·a leaves the loop
/// as −32·Σ scale·sum over the activations' 16-value sums, one vpmaddwd per two sub-blocks. Both integer sums are
/// exact and a super-block ends in one FMA per token: d·d_a·(Σ scale·dot − 32·Σ scale·sum).
/// </summary>
internal static unsafe class RepackedQ6KKernels
{
    private const int Rows = Int8Repack.Rows, BlockBytes = Rows * Q6KRepack.BlockBytes, SubBlockPairs = 8, PairBytes = BlockBytes / SubBlockPairs;

    /// <summary>
    /// y[t·yStride + r] = Σ_k w[r, k]·x[t, k] for the eight rows of the group at <paramref name="w"/> and the
    /// <typeparamref name="TTile"/> activation rows t: codes <paramref name="codeStride"/> bytes apart, super-block scales
    /// <paramref name="scaleStride"/> floats apart, 16-value sums <paramref name="sumStride"/> shorts apart.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ6_K<TTile>(byte* w, int superBlocks, sbyte* a, int codeStride, float* da, int scaleStride, short* sums, int sumStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var tokens = new Q8KTokenRows(a, codeStride, sums, sumStride);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < superBlocks; b++, w += BlockBytes)
        {
            var dots = new TileSums();
            var offsets = new TileSums();
            for (int pair = 0; pair < SubBlockPairs; pair++)
            {
                StreamPrefetch.Ahead(w + pair * PairBytes, PairBytes);
                // Lane r: the scales of sub-blocks 2·pair and 2·pair + 1 of row r, as two 16-bit halves.
                var scales = Avx2.ConvertToVector256Int16((sbyte*)w + Q6KRepack.ScalesOffset + 16 * pair);
                byte* planes = w + Q6KRepack.PlanesOffset + 2 * pair * Q6KRepack.SubBlockBytes;
                SubBlock<TTile>(planes, tokens, 32 * pair, Avx2.Shuffle(scales.AsByte(), LowHalf).AsInt16(), ref dots);
                SubBlock<TTile>(planes + Q6KRepack.SubBlockBytes, tokens, 32 * pair + 16, Avx2.Shuffle(scales.AsByte(), HighHalf).AsInt16(), ref dots);
                short* pairSums = tokens.Sums + 2 * pair;
                offsets.T0 += Avx2.MultiplyAddAdjacent(scales, SumPair(pairSums));
                if (n > 1) offsets.T1 += Avx2.MultiplyAddAdjacent(scales, SumPair(pairSums + tokens.SumStride));
                if (n > 2)
                {
                    offsets.T2 += Avx2.MultiplyAddAdjacent(scales, SumPair(pairSums + 2 * tokens.SumStride));
                    offsets.T3 += Avx2.MultiplyAddAdjacent(scales, SumPair(pairSums + 3 * tokens.SumStride));
                }
            }
            var d = HalfFloat.FiniteToSingle(Avx2.ConvertToVector256Int32((ushort*)w).AsUInt32());
            f0 = AddBlock(f0, dots.T0, offsets.T0, d, da[b]);
            if (n > 1) f1 = AddBlock(f1, dots.T1, offsets.T1, d, da[b + scaleStride]);
            if (n > 2)
            {
                f2 = AddBlock(f2, dots.T2, offsets.T2, d, da[b + 2 * scaleStride]);
                f3 = AddBlock(f3, dots.T3, offsets.T3, d, da[b + 3 * scaleStride]);
            }
            tokens = tokens.NextSuperBlock();
        }
        RepackedInt8Kernels.StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>
    /// One 16-value sub-block of the eight rows (three planes at <paramref name="planes"/>) times every token's values
    /// from <paramref name="offset"/> of its super-block, scaled by <paramref name="scale"/> (each row's in both halves of its lane).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubBlock<TTile>(byte* planes, Q8KTokenRows tokens, int offset, Vector256<short> scale, ref TileSums dots)
        where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var low = Vector256.Create((byte)0x3f);
        var top = Vector256.Create((byte)0xc0);
        var p0 = Vector256.Load(planes);
        var p1 = Vector256.Load(planes + Q6KRepack.PlaneBytes);
        var p2 = Vector256.Load(planes + 2 * Q6KRepack.PlaneBytes);
        var c0 = p0 & low;
        var c1 = p1 & low;
        var c2 = p2 & low;
        // The masked top bits cannot cross into the next byte: every shifted-in bit below them is zero.
        var c3 = Vector256.ShiftRightLogical((p0 & top).AsUInt16(), 6) | Vector256.ShiftRightLogical((p1 & top).AsUInt16(), 4)
            | Vector256.ShiftRightLogical((p2 & top).AsUInt16(), 2);
        sbyte* a = tokens.Codes + offset;
        nint stride = tokens.CodeStride;
        dots.T0 += Products(c0, c1, c2, c3.AsByte(), a, scale);
        if (n > 1) dots.T1 += Products(c0, c1, c2, c3.AsByte(), a + stride, scale);
        if (n > 2)
        {
            dots.T2 += Products(c0, c1, c2, c3.AsByte(), a + 2 * stride, scale);
            dots.T3 += Products(c0, c1, c2, c3.AsByte(), a + 3 * stride, scale);
        }
    }

    /// <summary>Σ scale·code·a per lane over one sub-block: codes c_j hold values 4j … 4j + 3 of the sub-block at <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Products(Vector256<byte> c0, Vector256<byte> c1, Vector256<byte> c2, Vector256<byte> c3, sbyte* a, Vector256<short> scale)
    {
        var first = Avx2.MultiplyAddAdjacent(c0, Broadcast(a)) + Avx2.MultiplyAddAdjacent(c1, Broadcast(a + 4));
        var second = Avx2.MultiplyAddAdjacent(c2, Broadcast(a + 8)) + Avx2.MultiplyAddAdjacent(c3, Broadcast(a + 12));
        return Avx2.MultiplyAddAdjacent(first, scale) + Avx2.MultiplyAddAdjacent(second, scale);
    }

    /// <summary>vpshufb patterns copying the low (even sub-block) or high 16-bit half of every 32-bit lane over the whole lane.</summary>
    private static Vector256<byte> LowHalf { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13); }

    private static Vector256<byte> HighHalf { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* a) => Vector256.Create(*(int*)a).AsSByte();

    /// <summary>The 16-value activation sums of two sub-blocks in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SumPair(short* sums) => Vector256.Create(*(int*)sums).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<int> offset, Vector256<float> d, float da) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot - Vector256.ShiftLeft(offset, 5)), d * Vector256.Create(da), acc);
}
