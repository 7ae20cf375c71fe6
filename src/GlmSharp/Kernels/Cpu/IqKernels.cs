using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Lattice-type rows (IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) times Q8_K activations on 256-bit vectors. Each 32 values
/// are built in registers as unsigned magnitudes (four grid entries, eight bytes each) and a vector whose byte signs
/// are the values' signs; psignb moves the signs onto the activations, so pmaddubsw multiplies magnitude by signed
/// activation without saturating (43·127·2 &lt; 2¹⁵), and pmaddwd applies the odd 16-bit scale of each 16 values. The
/// IQ1 types' shift of ±1/8 is folded into their values as eighths (<see cref="IIqBlock"/>), so no activation sums
/// are needed. Decode reads the stored blocks; prefill unpacks a row once into <see cref="KQuantKernels.Unpack"/>'s
/// form (codes v + largest |v|, that offset returned per 16 values with the activation sums) and shares
/// <see cref="KQuantKernels.DotUnpacked"/>'s tile with the K-quants.
/// </summary>
internal static unsafe class IqKernels
{
    private const int SuperBlock = IqCodec.BlockSize, SubBlocks = SuperBlock / 32, Groups = SuperBlock / IqCodec.Group;

    private static readonly ulong* Xxs = Pin(Iq2Grids.Xxs), Xs = Pin(Iq2Grids.Xs), S = Pin(Iq2Grids.S), Iq1 = Pin(Iq1Grid.Entries);
    private static readonly byte* EvenParity = Pin(EvenParitySigns.Table);

    /// <summary>Tables the kernels index by pointer: copied once to memory that never moves.</summary>
    private static T* Pin<T>(ReadOnlySpan<T> table) where T : unmanaged
    {
        var copy = (T*)NativeMemory.AlignedAlloc((nuint)(table.Length * sizeof(T)), 64);
        table.CopyTo(new Span<T>(copy, table.Length));
        return copy;
    }

    public static bool Handles(GgmlType type) => TensorCodec.DecodeOnlyLatticeTypes.Contains(type);

    public static float Dot(GgmlType type, byte* w, sbyte* a, float* da, int superBlocks) => type switch
    {
        GgmlType.IQ2_XXS => Dot<Iq2XxsLanes>(w, a, da, superBlocks),
        GgmlType.IQ2_XS => Dot<Iq2XsLanes>(w, a, da, superBlocks),
        GgmlType.IQ2_S => Dot<Iq2SLanes>(w, a, da, superBlocks),
        GgmlType.IQ1_S => Dot<Iq1SLanes>(w, a, da, superBlocks),
        _ => Dot<Iq1MLanes>(w, a, da, superBlocks),
    };

    /// <summary>One row of n values in <see cref="KQuantKernels.Unpack"/>'s form.</summary>
    public static void Unpack(GgmlType type, byte* w, int n, byte* u)
    {
        switch (type)
        {
            case GgmlType.IQ2_XXS: Unpack<Iq2XxsLanes>(w, n, u); break;
            case GgmlType.IQ2_XS: Unpack<Iq2XsLanes>(w, n, u); break;
            case GgmlType.IQ2_S: Unpack<Iq2SLanes>(w, n, u); break;
            case GgmlType.IQ1_S: Unpack<Iq1SLanes>(w, n, u); break;
            default: Unpack<Iq1MLanes>(w, n, u); break;
        }
    }

    /// <summary>What the kernels read from one block: d, and per 32 values magnitudes, signs and the two scales.</summary>
    private interface ILanes
    {
        static abstract int Bytes { get; }
        static abstract int MaxMagnitude { get; }
        static abstract ushort ScaleBits(byte* block);

        /// <summary>
        /// Sub-block <paramref name="ib"/>'s 32 |v|, a vector whose byte j is negative where v_j is (and never 0), and
        /// the scale of its first 16 values in the low 128 bits, of its second 16 in the high.
        /// </summary>
        static abstract (Vector256<byte> Magnitudes, Vector256<sbyte> Signs, Vector256<short> Scales) SubBlock(byte* block, int ib);
    }

    private readonly struct Iq2XxsLanes : ILanes
    {
        public static int Bytes => Iq2Xxs.BytesPerBlock;
        public static int MaxMagnitude => Iq2Xxs.MaxMagnitude;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib)
        {
            byte* sub = block + 2 + 8 * ib;
            uint high = *(uint*)(sub + 4);
            uint patterns = EvenParity[high & 127] | (uint)EvenParity[(high >> 7) & 127] << 8
                | (uint)EvenParity[(high >> 14) & 127] << 16 | (uint)EvenParity[(high >> 21) & 127] << 24;
            return (Vector256.Create(Xxs[sub[0]], Xxs[sub[1]], Xxs[sub[2]], Xxs[sub[3]]).AsByte(), Signs(patterns),
                Vector256.Create((short)(2 * (high >> 28) + 1)));
        }
    }

    private readonly struct Iq2XsLanes : ILanes
    {
        public static int Bytes => Iq2Xs.BytesPerBlock;
        public static int MaxMagnitude => Iq2Xs.MaxMagnitude;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib)
        {
            ushort* words = (ushort*)(block + 2) + 4 * ib;
            uint patterns = EvenParity[words[0] >> 9] | (uint)EvenParity[words[1] >> 9] << 8
                | (uint)EvenParity[words[2] >> 9] << 16 | (uint)EvenParity[words[3] >> 9] << 24;
            return (Vector256.Create(Xs[words[0] & 511], Xs[words[1] & 511], Xs[words[2] & 511], Xs[words[3] & 511]).AsByte(),
                Signs(patterns), NibbleScales(block[Iq2Xs.ScalesOffset + ib]));
        }
    }

    private readonly struct Iq2SLanes : ILanes
    {
        public static int Bytes => Iq2S.BytesPerBlock;
        public static int MaxMagnitude => Iq2S.MaxMagnitude;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib)
        {
            byte* low = block + Iq2S.IndexOffset + 4 * ib;
            int high = block[Iq2S.HighBitsOffset + ib];
            return (Vector256.Create(S[low[0] | (high & 3) << 8], S[low[1] | (high & 0x0c) << 6],
                    S[low[2] | (high & 0x30) << 4], S[low[3] | (high & 0xc0) << 2]).AsByte(),
                Signs(*(uint*)(block + Iq2S.SignsOffset + 4 * ib)), NibbleScales(block[Iq2S.ScalesOffset + ib]));
        }
    }

    private readonly struct Iq1SLanes : ILanes
    {
        public static int Bytes => Iq1S.BytesPerBlock;
        public static int MaxMagnitude => Iq1S.MaxMagnitude;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib)
        {
            byte* low = block + 2 + 4 * ib;
            int high = *(ushort*)(block + Iq1S.HighOffset + 2 * ib);
            var grid = Vector256.Create(Iq1[low[0] | (high & 7) << 8], Iq1[low[1] | (high & 0x38) << 5],
                Iq1[low[2] | (high & 0x1c0) << 2], Iq1[low[3] | (high & 0xe00) >> 1]).AsSByte();
            var values = Eighths(grid) + Vector256.Create((sbyte)((high & 0x8000) != 0 ? -1 : 1));
            return (Vector256.Abs(values).AsByte(), values, Vector256.Create((short)(2 * ((high >> 12) & 7) + 1)));
        }
    }

    private readonly struct Iq1MLanes : ILanes
    {
        public static int Bytes => Iq1M.BytesPerBlock;
        public static int MaxMagnitude => Iq1M.MaxMagnitude;

        public static ushort ScaleBits(byte* block)
        {
            ushort* words = (ushort*)(block + Iq1M.ScalesOffset);
            return (ushort)((words[0] >> 12) | ((words[1] >> 8) & 0x00f0) | ((words[2] >> 4) & 0x0f00) | (words[3] & 0xf000));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib)
        {
            byte* low = block + 4 * ib;
            int high = *(ushort*)(block + Iq1M.HighOffset + 2 * ib);
            var grid = Vector256.Create(Iq1[low[0] | (high & 7) << 8], Iq1[low[1] | (high & 0x70) << 4],
                Iq1[low[2] | (high & 0x700)], Iq1[low[3] | (high & 0x7000) >> 4]).AsSByte();
            // Bit 3 of each eight values' nibble sets their shift to −1.
            var shifts = Vector256.Create(Shift(high, 3), Shift(high, 7), Shift(high, 11), Shift(high, 15)).AsSByte();
            var values = Eighths(grid) + shifts;
            int word = *(ushort*)(block + Iq1M.ScalesOffset + 2 * (ib / 2)) >> (6 * (ib % 2));
            return (Vector256.Abs(values).AsByte(), values,
                Vector256.Create(Vector128.Create((short)(2 * (word & 7) + 1)), Vector128.Create((short)(2 * ((word >> 3) & 7) + 1))));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Shift(int high, int bit) => ((high >> bit) & 1) != 0 ? ulong.MaxValue : 0x0101010101010101UL;
    }

    /// <summary>8·g for grid values g of −1, 0 and 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Eighths(Vector256<sbyte> grid)
    {
        var twice = grid + grid;
        var four = twice + twice;
        return four + four;
    }

    /// <summary>Two 4-bit scales s, low nibble for the first 16 values, as 2·s + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> NibbleScales(int packed) =>
        Vector256.Create(Vector128.Create((short)(2 * (packed & 0x0f) + 1)), Vector128.Create((short)(2 * (packed >> 4) + 1)));

    /// <summary>
    /// ±1 bytes from four sign patterns (bit j of byte l set: value 8·l + j negative): each pattern byte is spread over
    /// its eight values, tested against that value's bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Signs(uint patterns)
    {
        var spread = Avx2.Shuffle(Vector256.Create(patterns).AsByte(), SpreadPatterns);
        var bits = Vector256.Create(0x8040201008040201UL).AsByte();
        return (Vector256.Equals(spread & bits, bits) | Vector256.Create((byte)1)).AsSByte();
    }

    private static readonly Vector256<byte> SpreadPatterns = Vector256.Create(0x0000000000000000UL, 0x0101010101010101UL, 0x0202020202020202UL, 0x0303030303030303UL).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledSignedDot(Vector256<int> acc, Vector256<byte> magnitudes, Vector256<sbyte> signs, sbyte* a, Vector256<short> scales)
    {
        var pairs = Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(Vector256.Load(a), signs));
        return AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, pairs, scales) : acc + Avx2.MultiplyAddAdjacent(pairs, scales);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot<TLanes>(byte* w, sbyte* a, float* da, int superBlocks) where TLanes : struct, ILanes
    {
        float* table = HalfFloat.TablePointer;
        Vector256<float> acc = default;
        for (int b = 0; b < superBlocks; b++, w += TLanes.Bytes, a += SuperBlock)
        {
            StreamPrefetch.Ahead(w, TLanes.Bytes);
            // Two accumulators: one chain of eight dependent pmaddwd adds is latency-bound.
            Vector256<int> dot0 = default, dot1 = default;
            for (int ib = 0; ib < SubBlocks; ib += 2)
            {
                var (m0, s0, c0) = TLanes.SubBlock(w, ib);
                dot0 = ScaledSignedDot(dot0, m0, s0, a + 32 * ib, c0);
                var (m1, s1, c1) = TLanes.SubBlock(w, ib + 1);
                dot1 = ScaledSignedDot(dot1, m1, s1, a + 32 * ib + 32, c1);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot0 + dot1), Vector256.Create(table[TLanes.ScaleBits(w)] * da[b]), acc);
        }
        return 0.125f * Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unpack<TLanes>(byte* w, int n, byte* u) where TLanes : struct, ILanes
    {
        float* table = HalfFloat.TablePointer;
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        var bias = Vector256.Create((sbyte)TLanes.MaxMagnitude);
        for (int b = 0; b < n / SuperBlock; b++, w += TLanes.Bytes)
        {
            float d = 0.125f * table[TLanes.ScaleBits(w)];
            superScales[b] = d;
            for (int ib = 0; ib < SubBlocks; ib++)
            {
                var (magnitudes, signs, scales) = TLanes.SubBlock(w, ib);
                (Avx2.Sign(magnitudes.AsSByte(), signs) + bias).AsByte().Store(u + b * SuperBlock + 32 * ib);
                scales.Store(pairScales + b * SuperBlock / 2 + 16 * ib);
                offsets[b * Groups + 2 * ib] = d * TLanes.MaxMagnitude * scales.GetElement(0);
                offsets[b * Groups + 2 * ib + 1] = d * TLanes.MaxMagnitude * scales.GetElement(8);
            }
        }
    }
}
