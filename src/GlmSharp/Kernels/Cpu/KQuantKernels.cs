using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q4_K and Q6_K rows times Q8_K activations on 256-bit vectors. Weight codes are unsigned (Q4_K nibbles 0–15,
/// Q6_K codes 0–63), so pmaddubsw multiplies them with the signed activation bytes into 16-bit pair sums without
/// saturating (63·127·2 &lt; 2¹⁵), and pmaddwd applies the 16-bit sub-block scales while widening to 32 bits.
/// Offsets leave the integer loop as one product per 16 values with the activation block sums: Q4_K's
/// −dmin·min, and Q6_K's −32 (Σ(u − 32)·a = Σu·a − 32·Σa).
/// <para>
/// Decode reads the stored blocks directly. Prefill unpacks a row once into codes in element order, a 16-bit scale
/// per code pair, a float scale per super-block and a float offset per 16 values, and reuses it for every token.
/// </para>
/// </summary>
internal static unsafe class KQuantKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, Group = ScalarKQuantKernels.Group;
    private const int GroupsPerSuperBlock = SuperBlock / Group;

    /// <summary>Bytes of one row unpacked by <see cref="Unpack"/>.</summary>
    public static long UnpackedBytes(int n) => 2L * n + (n / SuperBlock + n / Group) * sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot(Vector256<byte> u, sbyte* a, Vector256<short> scales) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Vector256.Load(a)), scales);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotQ4_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        var mask = Vector256.Create((byte)0x0f);
        Vector256<float> acc = default;
        float offsets = 0;
        for (int b = 0; b < superBlocks; b++, w += ScalarKQuantKernels.Q4_KBytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            var packed = new ReadOnlySpan<byte>(w + 4, 12);
            var dot = Vector256<int>.Zero;
            int minDot = 0;
            for (int chunk = 0; chunk < 4; chunk++)
            {
                var (scaleLow, minLow) = Tensors.Q4_K.ScaleMin(packed, 2 * chunk);
                var (scaleHigh, minHigh) = Tensors.Q4_K.ScaleMin(packed, 2 * chunk + 1);
                var q = Vector256.Load(w + 16 + 32 * chunk);
                dot += ScaledDot(q & mask, a + 64 * chunk, Vector256.Create((short)scaleLow));
                dot += ScaledDot(Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask, a + 64 * chunk + 32, Vector256.Create((short)scaleHigh));
                short* s = sums + 4 * chunk;
                minDot += minLow * (s[0] + s[1]) + minHigh * (s[2] + s[3]);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(table[*(ushort*)w] * da[b]), acc);
            offsets += table[*(ushort*)(w + 2)] * da[b] * minDot;
        }
        return Vector256.Sum(acc) - offsets;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotQ6_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        Vector256<float> acc = default;
        float offsets = 0;
        for (int b = 0; b < superBlocks; b++, w += ScalarKQuantKernels.Q6_KBytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            sbyte* scales = (sbyte*)(w + 192);
            var dot = Vector256<int>.Zero;
            for (int half = 0; half < 2; half++)
            {
                var u = Q6Codes(w, half);
                sbyte* ah = a + 128 * half;
                sbyte* sh = scales + 8 * half;
                dot += ScaledDot(u.Item1, ah, PairScales(sh[0], sh[1]));
                dot += ScaledDot(u.Item2, ah + 32, PairScales(sh[2], sh[3]));
                dot += ScaledDot(u.Item3, ah + 64, PairScales(sh[4], sh[5]));
                dot += ScaledDot(u.Item4, ah + 96, PairScales(sh[6], sh[7]));
            }
            int offsetDot = 0;
            for (int g = 0; g < GroupsPerSuperBlock; g++) offsetDot += scales[g] * sums[g];
            float d = table[*(ushort*)(w + 208)] * da[b];
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(d), acc);
            offsets += d * (32 * offsetDot);
        }
        return Vector256.Sum(acc) - offsets;
    }

    /// <summary>pmaddubsw leaves elements 0–15 of a 32-value chunk in the low 128 bits, 16–31 in the high.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PairScales(sbyte first, sbyte second) =>
        Vector256.Create(Vector128.Create((short)first), Vector128.Create((short)second));

    /// <summary>The 6-bit codes of one 128-value half of a Q6_K block, as four 32-value chunks in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Q6Codes(byte* block, int half)
    {
        var low = Vector256.Create((byte)0x0f);
        var two = Vector256.Create((byte)0x03);
        var l0 = Vector256.Load(block + 64 * half);
        var l1 = Vector256.Load(block + 64 * half + 32);
        var h = Vector256.Load(block + 128 + 32 * half).AsUInt16();
        return (
            (l0 & low) | Vector256.ShiftLeft((h.AsByte() & two).AsUInt16(), 4).AsByte(),
            (l1 & low) | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h, 2).AsByte() & two).AsUInt16(), 4).AsByte(),
            (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low) | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h, 4).AsByte() & two).AsUInt16(), 4).AsByte(),
            (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low) | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h, 6).AsByte() & two).AsUInt16(), 4).AsByte());
    }

    /// <summary>
    /// Unpacks one Q4_K or Q6_K row of n values at <paramref name="u"/>: n codes, n/2 pair scales (16-bit), n/256
    /// super-block scales and n/16 offsets (floats), so that the row is Σ_b d_b·Σ scale·u·a − Σ_g offset_g·Σa_g.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unpack(bool q6, byte* w, int n, byte* u)
    {
        float* table = HalfFloat.TablePointer;
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        for (int b = 0; b < n / SuperBlock; b++)
        {
            byte* codes = u + b * SuperBlock;
            short* ps = pairScales + b * SuperBlock / 2;
            float* off = offsets + b * GroupsPerSuperBlock;
            if (q6)
            {
                byte* block = w + (long)b * ScalarKQuantKernels.Q6_KBytes;
                sbyte* scales = (sbyte*)(block + 192);
                float d = table[*(ushort*)(block + 208)];
                superScales[b] = d;
                for (int half = 0; half < 2; half++)
                {
                    var (c0, c1, c2, c3) = Q6Codes(block, half);
                    c0.Store(codes + 128 * half);
                    c1.Store(codes + 128 * half + 32);
                    c2.Store(codes + 128 * half + 64);
                    c3.Store(codes + 128 * half + 96);
                }
                for (int g = 0; g < GroupsPerSuperBlock; g++)
                {
                    Vector128.Create((short)scales[g]).Store(ps + 8 * g);
                    off[g] = d * 32 * scales[g];
                }
            }
            else
            {
                byte* block = w + (long)b * ScalarKQuantKernels.Q4_KBytes;
                var packed = new ReadOnlySpan<byte>(block + 4, 12);
                float d = table[*(ushort*)block], dmin = table[*(ushort*)(block + 2)];
                superScales[b] = d;
                var mask = Vector256.Create((byte)0x0f);
                for (int chunk = 0; chunk < 4; chunk++)
                {
                    var q = Vector256.Load(block + 16 + 32 * chunk);
                    (q & mask).Store(codes + 64 * chunk);
                    (Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask).Store(codes + 64 * chunk + 32);
                }
                for (int j = 0; j < 8; j++)
                {
                    var (scale, min) = Tensors.Q4_K.ScaleMin(packed, j);
                    Vector256.Create((short)scale).Store(ps + 16 * j);
                    off[2 * j] = off[2 * j + 1] = dmin * min;
                }
            }
        }
    }

    /// <summary>
    /// y[t·yStride] for every token t: one unpacked row against each token's Q8_K activations (row-major
    /// [tokens, n] codes, [tokens, n/256] scales, [tokens, n/16] sums). Two tokens share each load of the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotUnpacked(byte* u, int n, sbyte* a, float* da, short* sums, int tokens, float* y, int yStride)
    {
        int t = 0;
        for (; t + 2 <= tokens; t += 2)
        {
            var (y0, y1) = DotUnpacked2(u, n, a + (long)t * n, da + (long)t * (n / SuperBlock), sums + (long)t * (n / Group));
            y[(long)t * yStride] = y0;
            y[(long)(t + 1) * yStride] = y1;
        }
        if (t < tokens)
        {
            long at = (long)t * n;
            var (y0, _) = DotUnpacked2(u, n, a + at, da + (long)t * (n / SuperBlock), sums + (long)t * (n / Group), single: true);
            y[(long)t * yStride] = y0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float, float) DotUnpacked2(byte* u, int n, sbyte* a0, float* da0, short* sums0, bool single = false)
    {
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        // With one token left, the second stream re-reads the first token's activations and its result is dropped.
        sbyte* a1 = single ? a0 : a0 + n;
        float* da1 = single ? da0 : da0 + n / SuperBlock;
        short* sums1 = single ? sums0 : sums0 + n / Group;
        Vector256<float> acc0 = default, acc1 = default, off0 = default, off1 = default;
        for (int b = 0; b < n / SuperBlock; b++)
        {
            Vector256<int> dot0 = default, dot1 = default;
            int e0 = b * SuperBlock;
            for (int e = e0; e < e0 + SuperBlock; e += 32)
            {
                var w = Vector256.Load(u + e);
                var s = Vector256.Load(pairScales + e / 2);
                dot0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, Vector256.Load(a0 + e)), s);
                dot1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, Vector256.Load(a1 + e)), s);
            }
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot0), Vector256.Create(superScales[b] * da0[b]), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot1), Vector256.Create(superScales[b] * da1[b]), acc1);
            int g = b * GroupsPerSuperBlock;
            var o0 = Vector256.Load(offsets + g);
            var o1 = Vector256.Load(offsets + g + 8);
            off0 += (o0 * Widen(sums0 + g) + o1 * Widen(sums0 + g + 8)) * Vector256.Create(da0[b]);
            off1 += (o0 * Widen(sums1 + g) + o1 * Widen(sums1 + g + 8)) * Vector256.Create(da1[b]);
        }
        return (Vector256.Sum(acc0) - Vector256.Sum(off0), Vector256.Sum(acc1) - Vector256.Sum(off1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(short* s) => Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(s));
}
