using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q3_K and Q2_K rows times Q8_K activations on 256-bit vectors, in the scheme of <see cref="KQuantKernels"/>: codes
/// unsigned (Q3_K's q − 4 stored as q, 0–7; Q2_K's 0–3) through pmaddubsw, one 16-bit scale per 16 values through
/// pmaddwd, and the offsets (Q3_K's 4·scale, Q2_K's dmin·min) applied once per 16 values with the activation block
/// sums. Decode reads the stored blocks; prefill unpacks each row once into <see cref="KQuantKernels.Unpack"/>'s form
/// and shares <see cref="KQuantKernels.DotUnpacked"/>'s tile with Q4_K and Q6_K.
/// </summary>
internal static unsafe class LowBitKQuantKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, Group = ScalarKQuantKernels.Group;
    private const int GroupsPerSuperBlock = SuperBlock / Group;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotQ3_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        var pick0 = KQuantKernels.PairScalePattern(0);
        var pick1 = KQuantKernels.PairScalePattern(1);
        var pick2 = KQuantKernels.PairScalePattern(2);
        var pick3 = KQuantKernels.PairScalePattern(3);
        Vector256<float> acc = default, offsetAcc = default;
        for (int b = 0; b < superBlocks; b++, w += Q3_K.BytesPerBlock, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, Q3_K.BytesPerBlock);
            var scales = Avx2.ConvertToVector256Int16(Q3Scales(w + Q3_K.ScalesOffset));
            // One accumulator per quarter: a single chain of eight dependent pmaddwd adds is latency-bound, as in Q4_K.
            Vector256<int> dot0 = default, dot1 = default, dot2 = default, dot3 = default;
            for (int half = 0; half < 2; half++)
            {
                var (u0, u1, u2, u3) = Q3Codes(w, half);
                var halfScales = HalfScales(scales, half);
                sbyte* ah = a + 128 * half;
                dot0 = KQuantKernels.ScaledDot(dot0, u0, ah, Avx2.Shuffle(halfScales, pick0).AsInt16());
                dot1 = KQuantKernels.ScaledDot(dot1, u1, ah + 32, Avx2.Shuffle(halfScales, pick1).AsInt16());
                dot2 = KQuantKernels.ScaledDot(dot2, u2, ah + 64, Avx2.Shuffle(halfScales, pick2).AsInt16());
                dot3 = KQuantKernels.ScaledDot(dot3, u3, ah + 96, Avx2.Shuffle(halfScales, pick3).AsInt16());
            }
            float d = table[*(ushort*)(w + Q3_K.ScaleOffset)] * da[b];
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle((dot0 + dot1) + (dot2 + dot3)), Vector256.Create(d), acc);
            var scaledSums = Avx2.MultiplyAddAdjacent(scales, Vector256.Load(sums));
            offsetAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(scaledSums), Vector256.Create(4 * d), offsetAcc);
        }
        return Vector256.Sum(acc - offsetAcc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotQ2_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        var pick0 = KQuantKernels.PairScalePattern(0);
        var pick1 = KQuantKernels.PairScalePattern(1);
        var pick2 = KQuantKernels.PairScalePattern(2);
        var pick3 = KQuantKernels.PairScalePattern(3);
        var nibble = Vector128.Create((byte)0x0f);
        Vector256<float> acc = default, minAcc = default;
        for (int b = 0; b < superBlocks; b++, w += Q2_K.BytesPerBlock, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, Q2_K.BytesPerBlock);
            var packed = Vector128.Load(w);
            var scales = Avx2.ConvertToVector256Int16(packed & nibble);
            var mins = Avx2.ConvertToVector256Int16(Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble);
            Vector256<int> dot0 = default, dot1 = default, dot2 = default, dot3 = default;
            for (int half = 0; half < 2; half++)
            {
                var (u0, u1, u2, u3) = Q2Codes(w, half);
                var halfScales = HalfScales(scales, half);
                sbyte* ah = a + 128 * half;
                dot0 = KQuantKernels.ScaledDot(dot0, u0, ah, Avx2.Shuffle(halfScales, pick0).AsInt16());
                dot1 = KQuantKernels.ScaledDot(dot1, u1, ah + 32, Avx2.Shuffle(halfScales, pick1).AsInt16());
                dot2 = KQuantKernels.ScaledDot(dot2, u2, ah + 64, Avx2.Shuffle(halfScales, pick2).AsInt16());
                dot3 = KQuantKernels.ScaledDot(dot3, u3, ah + 96, Avx2.Shuffle(halfScales, pick3).AsInt16());
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle((dot0 + dot1) + (dot2 + dot3)),
                Vector256.Create(table[*(ushort*)(w + Q2_K.ScaleOffset)] * da[b]), acc);
            var minProducts = Avx2.MultiplyAddAdjacent(mins, Vector256.Load(sums));
            minAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(minProducts),
                Vector256.Create(table[*(ushort*)(w + Q2_K.MinOffset)] * da[b]), minAcc);
        }
        return Vector256.Sum(acc - minAcc);
    }

    /// <summary>The 16-bit scales of one 128-value half (groups 8·half…8·half + 7) in both 128-bit lanes, for pshufb.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HalfScales(Vector256<short> scales, int half) =>
        (half == 0 ? Avx2.Permute2x128(scales, scales, 0x00) : Avx2.Permute2x128(scales, scales, 0x11)).AsByte();

    /// <summary>
    /// The sixteen signed scales (−32…31) of a Q3_K block from its twelve packed bytes, read as three 32-bit words:
    /// the low nibbles of words 0 and 1 give groups 0–7, their high nibbles groups 8–15, word 2 the top two bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Q3Scales(byte* packed)
    {
        const uint nibbles = 0x0f0f0f0f, pairs = 0x03030303;
        uint p0 = *(uint*)packed, p1 = *(uint*)(packed + 4), p2 = *(uint*)(packed + 8);
        return Vector128.Create(
            (p0 & nibbles) | ((p2 & pairs) << 4),
            (p1 & nibbles) | (((p2 >> 2) & pairs) << 4),
            ((p0 >> 4) & nibbles) | (((p2 >> 4) & pairs) << 4),
            ((p1 >> 4) & nibbles) | (((p2 >> 6) & pairs) << 4)).AsSByte() - Vector128.Create((sbyte)32);
    }

    /// <summary>The 3-bit codes (0–7) of one 128-value half of a Q3_K block, as four 32-value quarters in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Q3Codes(byte* block, int half)
    {
        var (l0, l1, l2, l3) = Quarters(block + Q3_K.LowBitsOffset + 32 * half);
        // Quarter k of this half takes bit 4·half + k of hmask, moved to bit 2 of each byte (a 16-bit shift of at most
        // five places keeps bit 2 of each byte inside its own byte).
        var high = Vector256.Load(block + Q3_K.HighBitsOffset).AsUInt16();
        var four = Vector256.Create((byte)4);
        return half == 0
            ? (l0 | (Vector256.ShiftLeft(high, 2).AsByte() & four), l1 | (Vector256.ShiftLeft(high, 1).AsByte() & four),
               l2 | (high.AsByte() & four), l3 | (Vector256.ShiftRightLogical(high, 1).AsByte() & four))
            : (l0 | (Vector256.ShiftRightLogical(high, 2).AsByte() & four), l1 | (Vector256.ShiftRightLogical(high, 3).AsByte() & four),
               l2 | (Vector256.ShiftRightLogical(high, 4).AsByte() & four), l3 | (Vector256.ShiftRightLogical(high, 5).AsByte() & four));
    }

    /// <summary>The 2-bit codes of one 128-value half of a Q2_K block, in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Q2Codes(byte* block, int half) =>
        Quarters(block + Q2_K.CodesOffset + 32 * half);

    /// <summary>The four 32-value quarters packed in 32 bytes of <see cref="TwoBitCodes"/>, quarter k at bits 2k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Quarters(byte* bytes)
    {
        var three = Vector256.Create((byte)3);
        var q = Vector256.Load(bytes).AsUInt16();
        return (q.AsByte() & three, Vector256.ShiftRightLogical(q, 2).AsByte() & three,
            Vector256.ShiftRightLogical(q, 4).AsByte() & three, Vector256.ShiftRightLogical(q, 6).AsByte() & three);
    }

    /// <summary>
    /// A Q3_K or Q2_K row of n values in <see cref="KQuantKernels.Unpack"/>'s form: codes in element order, each pair's
    /// 16-bit scale, d per super-block, and per 16 values the offset subtracted with the activation sum (Q3_K's
    /// 4·d·scale, Q2_K's dmin·min).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unpack(GgmlType type, byte* w, int n, byte* u)
    {
        float* table = HalfFloat.TablePointer;
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        bool q3 = type == GgmlType.Q3_K;
        var scales = stackalloc sbyte[GroupsPerSuperBlock];
        for (int b = 0; b < n / SuperBlock; b++)
        {
            byte* codes = u + b * SuperBlock;
            short* ps = pairScales + b * SuperBlock / 2;
            float* off = offsets + b * GroupsPerSuperBlock;
            for (int half = 0; half < 2; half++)
            {
                var (c0, c1, c2, c3) = q3 ? Q3Codes(w, half) : Q2Codes(w, half);
                c0.Store(codes + 128 * half);
                c1.Store(codes + 128 * half + 32);
                c2.Store(codes + 128 * half + 64);
                c3.Store(codes + 128 * half + 96);
            }
            if (q3)
            {
                float d = table[*(ushort*)(w + Q3_K.ScaleOffset)];
                superScales[b] = d;
                Q3Scales(w + Q3_K.ScalesOffset).Store(scales);
                for (int g = 0; g < GroupsPerSuperBlock; g++)
                {
                    Vector128.Create((short)scales[g]).Store(ps + 8 * g);
                    off[g] = 4 * d * scales[g];
                }
                w += Q3_K.BytesPerBlock;
            }
            else
            {
                superScales[b] = table[*(ushort*)(w + Q2_K.ScaleOffset)];
                float dmin = table[*(ushort*)(w + Q2_K.MinOffset)];
                for (int g = 0; g < GroupsPerSuperBlock; g++)
                {
                    Vector128.Create((short)(w[g] & 0x0f)).Store(ps + 8 * g);
                    off[g] = dmin * (w[g] >> 4);
                }
                w += Q2_K.BytesPerBlock;
            }
        }
    }
}
