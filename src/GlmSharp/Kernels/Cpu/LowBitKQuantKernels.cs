using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q3_K and Q2_K rows times Q8_K activations on 256-bit vectors, in the scheme of <see cref="KQuantKernels"/>: codes
/// unsigned (Q3_K's q − 4 stored as q, 0–7; Q2_K's 0–3) through pmaddubsw, one 16-bit scale per 16 values through
/// pmaddwd, and the offsets (Q3_K's 4·d·scale, Q2_K's dmin·min) applied once per 16 values with the activation block
/// sums. Decode reads the stored blocks; prefill unpacks each row once into <see cref="KQuantKernels.Unpack"/>'s form
/// and shares <see cref="KQuantKernels.DotUnpacked"/>'s tile with Q4_K and Q6_K.
/// </summary>
internal static unsafe class LowBitKQuantKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, Group = ScalarKQuantKernels.Group;
    private const int GroupsPerSuperBlock = SuperBlock / Group;

    public static float DotQ3_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks) => Dot<Q3Block>(w, a, da, sums, superBlocks);

    public static float DotQ2_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks) => Dot<Q2Block>(w, a, da, sums, superBlocks);

    /// <summary>What the kernels read from one block of a type: its codes, and per 16 values a scale and an offset weight.</summary>
    private interface IBlock
    {
        static abstract int Bytes { get; }

        /// <summary>The codes of one 128-value half, as four 32-value quarters in element order.</summary>
        static abstract (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Codes(byte* block, int half);

        /// <summary>
        /// The 16-bit scale and offset weight of each 16 values, with the floats they are multiplied by: the block's
        /// value is d·Σ scale·code·a − offsetScale·Σ offsetWeight·Σa.
        /// </summary>
        static abstract (Vector256<short> Scales, Vector256<short> OffsetWeights, float D, float OffsetScale) Header(byte* block, float* table);
    }

    private readonly struct Q3Block : IBlock
    {
        public static int Bytes => Q3_K.BytesPerBlock;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Codes(byte* block, int half)
        {
            var (l0, l1, l2, l3) = Quarters(block + Q3_K.LowBitsOffset + 32 * half);
            // Quarter k of this half takes bit 4·half + k of hmask, moved to bit 2 of each byte (a 16-bit shift of at
            // most five places keeps bit 2 of each byte inside its own byte).
            var high = Vector256.Load(block + Q3_K.HighBitsOffset).AsUInt16();
            var four = Vector256.Create((byte)4);
            return half == 0
                ? (l0 | (Vector256.ShiftLeft(high, 2).AsByte() & four), l1 | (Vector256.ShiftLeft(high, 1).AsByte() & four),
                   l2 | (high.AsByte() & four), l3 | (Vector256.ShiftRightLogical(high, 1).AsByte() & four))
                : (l0 | (Vector256.ShiftRightLogical(high, 2).AsByte() & four), l1 | (Vector256.ShiftRightLogical(high, 3).AsByte() & four),
                   l2 | (Vector256.ShiftRightLogical(high, 4).AsByte() & four), l3 | (Vector256.ShiftRightLogical(high, 5).AsByte() & four));
        }

        /// <summary>
        /// The sixteen signed scales (−32…31) from the twelve packed bytes: the low nibbles of bytes 0–7 give groups
        /// 0–7, their high nibbles groups 8–15, and 32-bit word 2 shifted by 2·(g / 4) the top two bits of group g in
        /// byte g % 4. Stored codes are q = value + 4, so the offset is 4·d·scale.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<short> Scales, Vector256<short> OffsetWeights, float D, float OffsetScale) Header(byte* block, float* table)
        {
            byte* packed = block + Q3_K.ScalesOffset;
            var bytes = Vector128.CreateScalar(*(ulong*)packed).AsByte();
            var nibble = Vector128.Create((byte)0x0f);
            var low = Sse2.UnpackLow((bytes & nibble).AsUInt64(), (Vector128.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte() & nibble).AsUInt64());
            var top = Avx2.ShiftRightLogicalVariable(Vector128.Create(*(uint*)(packed + 8)), Vector128.Create(0u, 2, 4, 6)) & Vector128.Create(0x03030303u);
            var scales = Avx2.ConvertToVector256Int16((low.AsByte() | Vector128.ShiftLeft(top, 4).AsByte()).AsSByte() - Vector128.Create((sbyte)32));
            float d = table[*(ushort*)(block + Q3_K.ScaleOffset)];
            return (scales, scales, d, 4 * d);
        }
    }

    private readonly struct Q2Block : IBlock
    {
        public static int Bytes => Q2_K.BytesPerBlock;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Codes(byte* block, int half) =>
            Quarters(block + Q2_K.CodesOffset + 32 * half);

        /// <summary>Scale in the low nibble of each group's byte, min in the high nibble.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<short> Scales, Vector256<short> OffsetWeights, float D, float OffsetScale) Header(byte* block, float* table)
        {
            var nibble = Vector128.Create((byte)0x0f);
            var packed = Vector128.Load(block);
            return (Avx2.ConvertToVector256Int16(packed & nibble),
                Avx2.ConvertToVector256Int16(Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble),
                table[*(ushort*)(block + Q2_K.ScaleOffset)], table[*(ushort*)(block + Q2_K.MinOffset)]);
        }
    }

    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TBlock>(byte* w, sbyte* a, float* da, short* sums, int superBlocks) where TBlock : struct, IBlock
    {
        float* table = HalfFloat.TablePointer;
        var pick0 = KQuantKernels.PairScalePattern(0);
        var pick1 = KQuantKernels.PairScalePattern(1);
        var pick2 = KQuantKernels.PairScalePattern(2);
        var pick3 = KQuantKernels.PairScalePattern(3);
        Vector256<float> acc = default, offsetAcc = default;
        for (int b = 0; b < superBlocks; b++, w += TBlock.Bytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, TBlock.Bytes);
            var (scales, offsetWeights, d, offsetScale) = TBlock.Header(w, table);
            // One accumulator per quarter: a single chain of eight dependent pmaddwd adds is latency-bound, as in Q4_K.
            Vector256<int> dot0 = default, dot1 = default, dot2 = default, dot3 = default;
            for (int half = 0; half < 2; half++)
            {
                var (u0, u1, u2, u3) = TBlock.Codes(w, half);
                // The half's eight scales in both 128-bit lanes, for pshufb.
                var halfScales = (half == 0 ? Avx2.Permute2x128(scales, scales, 0x00) : Avx2.Permute2x128(scales, scales, 0x11)).AsByte();
                sbyte* ah = a + 128 * half;
                dot0 = KQuantKernels.ScaledDot(dot0, u0, ah, Avx2.Shuffle(halfScales, pick0).AsInt16());
                dot1 = KQuantKernels.ScaledDot(dot1, u1, ah + 32, Avx2.Shuffle(halfScales, pick1).AsInt16());
                dot2 = KQuantKernels.ScaledDot(dot2, u2, ah + 64, Avx2.Shuffle(halfScales, pick2).AsInt16());
                dot3 = KQuantKernels.ScaledDot(dot3, u3, ah + 96, Avx2.Shuffle(halfScales, pick3).AsInt16());
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle((dot0 + dot1) + (dot2 + dot3)), Vector256.Create(d * da[b]), acc);
            var offsets = Avx2.MultiplyAddAdjacent(offsetWeights, Vector256.Load(sums));
            offsetAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(offsets), Vector256.Create(offsetScale * da[b]), offsetAcc);
        }
        return Vector256.Sum(acc - offsetAcc);
    }

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
    /// 16-bit scale, d per super-block, and per 16 values the offset subtracted with the activation sum.
    /// </summary>
    public static void Unpack(GgmlType type, byte* w, int n, byte* u)
    {
        if (type == GgmlType.Q3_K) Unpack<Q3Block>(w, n, u);
        else Unpack<Q2Block>(w, n, u);
    }

    [MethodImpl(KernelRoot.Options)]
    private static void Unpack<TBlock>(byte* w, int n, byte* u) where TBlock : struct, IBlock
    {
        float* table = HalfFloat.TablePointer;
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        var scales = stackalloc short[GroupsPerSuperBlock];
        var offsetWeights = stackalloc short[GroupsPerSuperBlock];
        for (int b = 0; b < n / SuperBlock; b++, w += TBlock.Bytes)
        {
            byte* codes = u + b * SuperBlock;
            for (int half = 0; half < 2; half++) KQuantKernels.StoreHalf(TBlock.Codes(w, half), codes, half);
            var header = TBlock.Header(w, table);
            header.Scales.Store(scales);
            header.OffsetWeights.Store(offsetWeights);
            superScales[b] = header.D;
            for (int g = 0; g < GroupsPerSuperBlock; g++)
            {
                Vector128.Create(scales[g]).Store(pairScales + b * SuperBlock / 2 + 8 * g);
                offsets[b * GroupsPerSuperBlock + g] = header.OffsetScale * offsetWeights[g];
            }
        }
    }
}
