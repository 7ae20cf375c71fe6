using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Int8Kernels"/> on 512-bit AVX-512BW vectors without VNNI: vpmaddubsw multiplies unsigned by signed
/// bytes into saturating 16-bit pair sums, vpmaddwd against ones widens them to 32-bit sums of four.
/// <para>
/// Q4_0 nibbles (0…15) against codes in ±127 give pair sums ≤ 3 810, far from saturation, so they are offset-coded as
/// on the 256-bit path and, in the prefill tile, the 16-bit sums of a whole group are added before one vpmaddwd.
/// Q8_0 codes offset to 0…255 would saturate, so Q8_0 stays signed and uses the sign trick of llama.cpp's x86 dots:
/// |w|·(a with w's sign) = w·a, with |w| ≤ 128 and pair sums ≤ 32 512.
/// </para>
/// <para>
/// Activations use the same layouts as the 256-bit kernels. A zmm covers two 256-bit steps of the grouped layout,
/// whose lanes b and b + 8 both belong to block b, so a group's sums fold to one 256-bit vector of eight blocks.
/// </para>
/// </summary>
internal static unsafe class Int8KernelsAvx512
{
    private const int Block = Int8Kernels.Block, GroupBytes = Int8Kernels.GroupBytes, GroupBlocks = Int8Kernels.GroupBlocks;
    private const int Q8_0Bytes = 34, Q4_0Bytes = 18;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SignedDot(Vector512<sbyte> w, Vector512<sbyte> a) =>
        Avx512BW.MultiplyAddAdjacent(
            Avx512BW.MultiplyAddAdjacent(Vector512.Abs(w).AsByte(), Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), -a, a)),
            Vector512<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> UnsignedDot(Vector512<byte> u, Vector512<sbyte> a) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, a), Vector512<short>.One);

    /// <summary>Dot of one stored Q8_0 row with one natural-layout activation row; two blocks per vector.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ8_0(byte* w, sbyte* q, float* scales, int blocks)
    {
        float* table = HalfFloat.TablePointer;
        Vector512<float> acc0 = default, acc1 = default;
        byte* end = w + blocks * Q8_0Bytes;
        for (; w + 4 * Q8_0Bytes <= end; w += 4 * Q8_0Bytes, q += 4 * Block, scales += 4)
        {
            StreamPrefetch.Ahead(w, 4 * Q8_0Bytes);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(SignedDot(Q8Pair(w), Vector512.Load(q))), PairScale(table, w, scales), acc0);
            byte* w2 = w + 2 * Q8_0Bytes;
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(SignedDot(Q8Pair(w2), Vector512.Load(q + 2 * Block))), PairScale(table, w2, scales + 2), acc1);
        }
        if (w + 2 * Q8_0Bytes <= end)
        {
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(SignedDot(Q8Pair(w), Vector512.Load(q))), PairScale(table, w, scales), acc0);
            w += 2 * Q8_0Bytes; q += 2 * Block; scales += 2;
        }
        if (w < end)
        {
            var i = SignedDot(Vector512.Create(Vector256.Load((sbyte*)w + 2), default), Vector512.Create(Vector256.Load(q), default));
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(i), Vector512.Create(table[*(ushort*)w] * scales[0]), acc1);
        }
        return Vector512.Sum(acc0 + acc1);
    }

    /// <summary>The codes of two consecutive Q8_0 blocks, side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Q8Pair(byte* w) => Vector512.Create(Vector256.Load((sbyte*)w + 2), Vector256.Load((sbyte*)w + Q8_0Bytes + 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairScale(float* table, byte* w, float* scales) =>
        Vector512.Create(Vector256.Create(table[*(ushort*)w] * scales[0]), Vector256.Create(table[*(ushort*)(w + Q8_0Bytes)] * scales[1]));

    /// <summary>
    /// Dot of one stored Q4_0 row with one <see cref="ActivationLayout.NibblePairs"/> activation row: a pair of blocks'
    /// low nibbles and high nibbles fill one vector that meets the pair's 64 activation bytes as stored, leaving the
    /// first block's sums in lanes 0–3 and 8–11, the second's in 4–7 and 12–15.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ4_0(byte* w, sbyte* q, float* scales, float* sums, int blocks)
    {
        float* table = HalfFloat.TablePointer;
        var firstPair = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
        var secondPair = firstPair + Vector512.Create(2);
        Vector512<float> acc0 = default, acc1 = default;
        Vector128<float> offset = default;
        byte* end = w + blocks * Q4_0Bytes;
        for (; w + 4 * Q4_0Bytes <= end; w += 4 * Q4_0Bytes, q += 4 * Block, scales += 4, sums += 4)
        {
            var d = Vector128.Create(table[*(ushort*)w], table[*(ushort*)(w + Q4_0Bytes)],
                table[*(ushort*)(w + 2 * Q4_0Bytes)], table[*(ushort*)(w + 3 * Q4_0Bytes)]);
            var combined = (d * Vector128.Load(scales)).ToVector256Unsafe().ToVector512Unsafe();
            offset = Vector128.FusedMultiplyAdd(d, Vector128.Load(sums), offset);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(PairDot(w, q)), Vector512.Shuffle(combined, firstPair), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(PairDot(w + 2 * Q4_0Bytes, q + 2 * Block)), Vector512.Shuffle(combined, secondPair), acc1);
        }
        float offsetSum = Vector128.Sum(offset);
        if (w + 2 * Q4_0Bytes <= end)
        {
            float d0 = table[*(ushort*)w], d1 = table[*(ushort*)(w + Q4_0Bytes)];
            var combined = Vector128.Create(d0 * scales[0], d1 * scales[1], 0, 0).ToVector256Unsafe().ToVector512Unsafe();
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(PairDot(w, q)), Vector512.Shuffle(combined, firstPair), acc0);
            offsetSum += d0 * sums[0] + d1 * sums[1];
            w += 2 * Q4_0Bytes; q += 2 * Block; scales += 2; sums += 2;
        }
        if (w < end)
        {
            // A last unpaired block is stored in element order: low nibbles are elements 0–15, high ones 16–31.
            var packed = Vector128.Load(w + 2);
            var nibbles = Vector256.Create(packed, Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0f);
            var i = UnsignedDot(Vector512.Create(nibbles, default), Vector512.Create(Vector256.Load(q), default));
            float d0 = table[*(ushort*)w];
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(i), Vector512.Create(d0 * scales[0]), acc1);
            offsetSum += d0 * sums[0];
        }
        return Vector512.Sum(acc0 + acc1) - 8f * offsetSum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> PairDot(byte* w, sbyte* q)
    {
        var packed = Vector256.Create(Vector128.Load(w + 2), Vector128.Load(w + Q4_0Bytes + 2));
        var nibbles = Vector512.Create(packed, Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte()) & Vector512.Create((byte)0x0f);
        return UnsignedDot(nibbles, Vector512.Load(q));
    }

    /// <summary>
    /// <see cref="Int8Kernels.DotTile{TDot}"/> for rows unpacked by <see cref="Int8Kernels.Unpack"/>: Q4_0 as
    /// offset nibbles, Q8_0 as signed codes (<c>signedQ8</c>), whose offsets are zero.
    /// </summary>
    public static void DotTile(bool q4, byte* u, float* wScales, int rowBytes, int rowBlocks, int rows,
        sbyte* a, float* aScales, int tokens, int groups, float* y, int yStride)
    {
        int t = 0;
        if (rows == 4)
            for (; t + 2 <= tokens; t += 2)
            {
                sbyte* at = a + t * rowBytes;
                float* st = aScales + t * rowBlocks;
                if (q4) Tile4x2Q4(u, wScales, rowBytes, rowBlocks, at, st, groups, y + t * yStride, yStride);
                else Tile4x2Q8(u, wScales, rowBytes, rowBlocks, at, st, groups, y + t * yStride, yStride);
            }
        for (; t < tokens; t++)
            for (int r = 0; r < rows; r++)
                y[t * yStride + r] = Dot1x1(q4, u + r * rowBytes, wScales + r * rowBlocks, a + t * rowBytes, aScales + t * rowBlocks, groups);
    }

    /// <summary>A group's sums of lanes b and b + 8, which belong to the same block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector512<int> i) => Vector256.ConvertToSingle(i.GetLower() + i.GetUpper());

    [MethodImpl(KernelRoot.Options)]
    private static float Dot1x1(bool q4, byte* u, float* ws, sbyte* a, float* asc, int groups)
    {
        Vector256<float> acc = default;
        for (int g = 0; g < groups; g++)
        {
            var i = Vector512<int>.Zero;
            byte* ug = u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBytes; s += 64)
                i += q4 ? UnsignedDot(Vector512.Load(ug + s), Vector512.Load(ag + s)) : SignedDot(Vector512.Load((sbyte*)ug + s), Vector512.Load(ag + s));
            int o = g * GroupBlocks;
            acc = Vector256.FusedMultiplyAdd(Fold(i), Vector256.Load(ws + o) * Vector256.Load(asc + o), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Four rows by two tokens; a lane of the 16-bit pair sums collects four of them per group (≤ 4 × 3 810; Q5_K's 5-bit codes ≤ 4 × 7 874) before one vpmaddwd.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Tile4x2Q4(byte* u, float* ws, int rowBytes, int rowBlocks, sbyte* a, float* asc, int groups, float* y, int yStride)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector512<short> s00 = default, s01 = default, s10 = default, s11 = default;
            Vector512<short> s20 = default, s21 = default, s30 = default, s31 = default;
            byte* ug = u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBytes; s += 64)
            {
                var a0 = Vector512.Load(ag + s);
                var a1 = Vector512.Load(ag + rowBytes + s);
                var w = Vector512.Load(ug + s);
                s00 += Avx512BW.MultiplyAddAdjacent(w, a0); s01 += Avx512BW.MultiplyAddAdjacent(w, a1);
                w = Vector512.Load(ug + rowBytes + s);
                s10 += Avx512BW.MultiplyAddAdjacent(w, a0); s11 += Avx512BW.MultiplyAddAdjacent(w, a1);
                w = Vector512.Load(ug + 2 * rowBytes + s);
                s20 += Avx512BW.MultiplyAddAdjacent(w, a0); s21 += Avx512BW.MultiplyAddAdjacent(w, a1);
                w = Vector512.Load(ug + 3 * rowBytes + s);
                s30 += Avx512BW.MultiplyAddAdjacent(w, a0); s31 += Avx512BW.MultiplyAddAdjacent(w, a1);
            }
            int o = g * GroupBlocks;
            var as0 = Vector256.Load(asc + o);
            var as1 = Vector256.Load(asc + rowBlocks + o);
            Accumulate(ref c00, ref c01, Widen(s00), Widen(s01), ws + o, as0, as1);
            Accumulate(ref c10, ref c11, Widen(s10), Widen(s11), ws + rowBlocks + o, as0, as1);
            Accumulate(ref c20, ref c21, Widen(s20), Widen(s21), ws + 2 * rowBlocks + o, as0, as1);
            Accumulate(ref c30, ref c31, Widen(s30), Widen(s31), ws + 3 * rowBlocks + o, as0, as1);
        }
        Store(y, yStride, c00, c01, c10, c11, c20, c21, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Widen(Vector512<short> pairSums) => Avx512BW.MultiplyAddAdjacent(pairSums, Vector512<short>.One);

    /// <summary>Four rows by two tokens on signed Q8_0 codes: |w| and w's sign once per row, the sign applied per token.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Tile4x2Q8(byte* u, float* ws, int rowBytes, int rowBlocks, sbyte* a, float* asc, int groups, float* y, int yStride)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector512<int> i00 = default, i01 = default, i10 = default, i11 = default;
            Vector512<int> i20 = default, i21 = default, i30 = default, i31 = default;
            sbyte* ug = (sbyte*)u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBytes; s += 64)
            {
                var a0 = Vector512.Load(ag + s);
                var a1 = Vector512.Load(ag + rowBytes + s);
                var n0 = -a0;
                var n1 = -a1;
                SignedStep(ref i00, ref i01, Vector512.Load(ug + s), a0, a1, n0, n1);
                SignedStep(ref i10, ref i11, Vector512.Load(ug + rowBytes + s), a0, a1, n0, n1);
                SignedStep(ref i20, ref i21, Vector512.Load(ug + 2 * rowBytes + s), a0, a1, n0, n1);
                SignedStep(ref i30, ref i31, Vector512.Load(ug + 3 * rowBytes + s), a0, a1, n0, n1);
            }
            int o = g * GroupBlocks;
            var as0 = Vector256.Load(asc + o);
            var as1 = Vector256.Load(asc + rowBlocks + o);
            Accumulate(ref c00, ref c01, i00, i01, ws + o, as0, as1);
            Accumulate(ref c10, ref c11, i10, i11, ws + rowBlocks + o, as0, as1);
            Accumulate(ref c20, ref c21, i20, i21, ws + 2 * rowBlocks + o, as0, as1);
            Accumulate(ref c30, ref c31, i30, i31, ws + 3 * rowBlocks + o, as0, as1);
        }
        Store(y, yStride, c00, c01, c10, c11, c20, c21, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SignedStep(ref Vector512<int> i0, ref Vector512<int> i1, Vector512<sbyte> w,
        Vector512<sbyte> a0, Vector512<sbyte> a1, Vector512<sbyte> n0, Vector512<sbyte> n1)
    {
        var magnitude = Vector512.Abs(w).AsByte();
        var negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
        i0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(magnitude, Vector512.ConditionalSelect(negative, n0, a0)), Vector512<short>.One);
        i1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(magnitude, Vector512.ConditionalSelect(negative, n1, a1)), Vector512<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<float> c0, ref Vector256<float> c1, Vector512<int> i0, Vector512<int> i1,
        float* ws, Vector256<float> as0, Vector256<float> as1)
    {
        var scale = Vector256.Load(ws);
        c0 = Vector256.FusedMultiplyAdd(Fold(i0), scale * as0, c0);
        c1 = Vector256.FusedMultiplyAdd(Fold(i1), scale * as1, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int yStride, Vector256<float> c00, Vector256<float> c01, Vector256<float> c10, Vector256<float> c11,
        Vector256<float> c20, Vector256<float> c21, Vector256<float> c30, Vector256<float> c31)
    {
        y[0] = Vector256.Sum(c00); y[yStride] = Vector256.Sum(c01);
        y[1] = Vector256.Sum(c10); y[yStride + 1] = Vector256.Sum(c11);
        y[2] = Vector256.Sum(c20); y[yStride + 2] = Vector256.Sum(c21);
        y[3] = Vector256.Sum(c30); y[yStride + 3] = Vector256.Sum(c31);
    }
}
