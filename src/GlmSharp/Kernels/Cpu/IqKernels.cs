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
/// <para>
/// The four table lookups per 32 values make decode compute-bound, as in ggml. Timed against ggml's AVX2 vec_dot in
/// one process (one thread, 2048 rows of 4096, a shared 2-core Zen 3): IQ2_XXS level with it, IQ2_XS about 1.2× its
/// time, IQ2_S, IQ1_S and IQ1_M about 1.4–1.6×; IQ2_XXS takes about 2.5× Q2_K's time per row.
/// </para>
/// </summary>
internal static unsafe class IqKernels
{
    private const int SuperBlock = IqCodec.BlockSize, SubBlocks = SuperBlock / 32, Groups = SuperBlock / IqCodec.Group;

    private static readonly ulong* Xxs = Pin(Iq2Grids.Xxs), Xs = Pin(Iq2Grids.Xs), S = Pin(Iq2Grids.S), Iq1Eighths = Pin(TimesEight(Iq1Grid.Entries));
    private static readonly ulong* EvenSigns = Pin(SignBytes(EvenParitySigns.Table));
    private static readonly ulong* AllSigns = Pin(SignBytes([.. Enumerable.Range(0, 256).Select(pattern => (byte)pattern)]));

    /// <summary>
    /// Sign patterns (bit j set: value j negative) as eight bytes of +1, or −1 where the value is negative: four
    /// loads give psignb its 32 signs, as in ggml's keven_signs_q2xs.
    /// </summary>
    private static ulong[] SignBytes(ReadOnlySpan<byte> patterns)
    {
        var signs = new ulong[patterns.Length];
        for (int code = 0; code < signs.Length; code++)
            for (int j = 0; j < 8; j++) signs[code] |= (ulong)(((patterns[code] >> j) & 1) != 0 ? 0xFF : 0x01) << (8 * j);
        return signs;
    }

    /// <summary>The IQ1 grid with each value −1, 0, 1 as −8, 0, 8: the values in eighths before their shift.</summary>
    private static ulong[] TimesEight(ReadOnlySpan<ulong> grid)
    {
        var eighths = new ulong[grid.Length];
        for (int i = 0; i < grid.Length; i++)
            for (int j = 0; j < 8; j++) eighths[i] |= (ulong)(byte)(8 * (sbyte)(grid[i] >> (8 * j))) << (8 * j);
        return eighths;
    }

    /// <summary>Tables the kernels index by pointer: copied once to memory that never moves.</summary>
    private static T* Pin<T>(ReadOnlySpan<T> table) where T : unmanaged
    {
        var copy = (T*)NativeMemory.AlignedAlloc((nuint)(table.Length * sizeof(T)), 64);
        table.CopyTo(new Span<T>(copy, table.Length));
        return copy;
    }

    public static bool Handles(GgmlType type) => type is GgmlType.IQ2_XXS or GgmlType.IQ2_XS or GgmlType.IQ2_S or GgmlType.IQ1_S or GgmlType.IQ1_M;

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
        /// The type's grid and sign table (<see cref="SignBytes"/>), read once per row: a static field read inside the
        /// loop cost a class-initialisation check each time.
        /// </summary>
        static abstract ulong* Grid { get; }
        static abstract ulong* SignTable { get; }

        /// <summary>
        /// Sub-block <paramref name="ib"/>'s 32 |v|, a vector whose byte j is negative where v_j is (and never 0), and
        /// the scale of its first 16 values in the low 128 bits, of its second 16 in the high.
        /// </summary>
        static abstract (Vector256<byte> Magnitudes, Vector256<sbyte> Signs, Vector256<short> Scales) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable);
    }

    private readonly struct Iq2XxsLanes : ILanes
    {
        public static int Bytes => Iq2Xxs.BytesPerBlock;
        public static int MaxMagnitude => Iq2Xxs.MaxMagnitude;
        public static ulong* Grid => Xxs;
        public static ulong* SignTable => EvenSigns;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable)
        {
            byte* sub = block + 2 + 8 * ib;
            uint high = *(uint*)(sub + 4);
            return (Vector256.Create(grid[sub[0]], grid[sub[1]], grid[sub[2]], grid[sub[3]]).AsByte(),
                Vector256.Create(signTable[high & 127], signTable[(high >> 7) & 127], signTable[(high >> 14) & 127], signTable[(high >> 21) & 127]).AsSByte(),
                Vector256.Create((short)(2 * (high >> 28) + 1)));
        }
    }

    private readonly struct Iq2XsLanes : ILanes
    {
        public static int Bytes => Iq2Xs.BytesPerBlock;
        public static int MaxMagnitude => Iq2Xs.MaxMagnitude;
        public static ulong* Grid => Xs;
        public static ulong* SignTable => EvenSigns;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable)
        {
            ushort* words = (ushort*)(block + 2) + 4 * ib;
            return (Vector256.Create(grid[words[0] & 511], grid[words[1] & 511], grid[words[2] & 511], grid[words[3] & 511]).AsByte(),
                Vector256.Create(signTable[words[0] >> 9], signTable[words[1] >> 9], signTable[words[2] >> 9], signTable[words[3] >> 9]).AsSByte(), NibbleScales(block[Iq2Xs.ScalesOffset + ib]));
        }
    }

    private readonly struct Iq2SLanes : ILanes
    {
        public static int Bytes => Iq2S.BytesPerBlock;
        public static int MaxMagnitude => Iq2S.MaxMagnitude;
        public static ulong* Grid => S;
        public static ulong* SignTable => AllSigns;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable)
        {
            byte* low = block + Iq2S.IndexOffset + 4 * ib, sign = block + Iq2S.SignsOffset + 4 * ib;
            int high = block[Iq2S.HighBitsOffset + ib];
            return (Vector256.Create(grid[low[0] | (high & 3) << 8], grid[low[1] | (high & 0x0c) << 6],
                    grid[low[2] | (high & 0x30) << 4], grid[low[3] | (high & 0xc0) << 2]).AsByte(),
                Vector256.Create(signTable[sign[0]], signTable[sign[1]], signTable[sign[2]], signTable[sign[3]]).AsSByte(), NibbleScales(block[Iq2S.ScalesOffset + ib]));
        }
    }

    private readonly struct Iq1SLanes : ILanes
    {
        public static int Bytes => Iq1S.BytesPerBlock;
        public static int MaxMagnitude => Iq1S.MaxMagnitude;
        public static ulong* Grid => Iq1Eighths;
        public static ulong* SignTable => null;
        public static ushort ScaleBits(byte* block) => *(ushort*)block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable)
        {
            byte* low = block + 2 + 4 * ib;
            int high = *(ushort*)(block + Iq1S.HighOffset + 2 * ib);
            var entries = Vector256.Create(grid[low[0] | (high & 7) << 8], grid[low[1] | (high & 0x38) << 5],
                grid[low[2] | (high & 0x1c0) << 2], grid[low[3] | (high & 0xe00) >> 1]).AsSByte();
            var values = entries + Vector256.Create((sbyte)(1 - 2 * (high >> 15)));
            return (Vector256.Abs(values).AsByte(), values, Vector256.Create((short)(2 * ((high >> 12) & 7) + 1)));
        }
    }

    private readonly struct Iq1MLanes : ILanes
    {
        public static int Bytes => Iq1M.BytesPerBlock;
        public static int MaxMagnitude => Iq1M.MaxMagnitude;
        public static ulong* Grid => Iq1Eighths;
        public static ulong* SignTable => null;

        public static ushort ScaleBits(byte* block) => Iq1M.ScaleBits(new ReadOnlySpan<byte>(block, Iq1M.BytesPerBlock));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector256<byte>, Vector256<sbyte>, Vector256<short>) SubBlock(byte* block, int ib, ulong* grid, ulong* signTable)
        {
            byte* low = block + 4 * ib;
            int high = *(ushort*)(block + Iq1M.HighOffset + 2 * ib);
            var entries = Vector256.Create(grid[low[0] | (high & 7) << 8], grid[low[1] | (high & 0x70) << 4],
                grid[low[2] | (high & 0x700)], grid[low[3] | (high & 0x7000) >> 4]).AsSByte();
            var values = entries + Shifts(high);
            int word = *(ushort*)(block + Iq1M.ScalesOffset + 2 * (ib >> 1)) >> (6 * (ib & 1));
            return (Vector256.Abs(values).AsByte(), values,
                Vector256.Create(Vector128.Create((short)(2 * (word & 7) + 1)), Vector128.Create((short)(2 * ((word >> 3) & 7) + 1))));
        }

        /// <summary>
        /// The 32 values' shifts: +1, or −1 where bit 3 of their eight values' nibble of <paramref name="high"/> is set
        /// (bits 3, 7, 11, 15), spread and tested as <see cref="Signs"/> does.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<sbyte> Shifts(int high)
        {
            var spread = Avx2.Shuffle(Vector256.Create((ushort)high).AsByte(), Vector256.Create(0UL, 0UL, 0x0101010101010101UL, 0x0101010101010101UL).AsByte());
            var bits = Vector256.Create(0x0808080808080808UL, 0x8080808080808080UL, 0x0808080808080808UL, 0x8080808080808080UL).AsByte();
            return (Vector256.Equals(spread & bits, bits) | Vector256.Create((byte)1)).AsSByte();
        }
    }

    /// <summary>Two 4-bit scales s, low nibble for the first 16 values, as 2·s + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> NibbleScales(int packed) =>
        Vector256.Create(Vector128.Create((short)(2 * (packed & 0x0f) + 1)), Vector128.Create((short)(2 * (packed >> 4) + 1)));

    /// <summary>Σ scale·|v|·(sign · a) of sub-block <paramref name="ib"/>, eight 32-bit partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SubBlockDot<TLanes>(byte* w, sbyte* a, int ib, ulong* grid, ulong* signTable) where TLanes : struct, ILanes
    {
        var (magnitudes, signs, scales) = TLanes.SubBlock(w, ib, grid, signTable);
        var pairs = Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(Vector256.Load(a + 32 * ib), signs));
        return Avx2.MultiplyAddAdjacent(pairs, scales);
    }

    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TLanes>(byte* w, sbyte* a, float* da, int superBlocks) where TLanes : struct, ILanes
    {
        float* table = HalfFloat.TablePointer;
        ulong* grid = TLanes.Grid;
        ulong* signTable = TLanes.SignTable;
        Vector256<float> acc = default;
        for (int b = 0; b < superBlocks; b++, w += TLanes.Bytes, a += SuperBlock)
        {
            StreamPrefetch.Ahead(w, TLanes.Bytes);
            // Written out and summed as a tree: no chain of dependent adds, and a loop over the sub-blocks kept its
            // accumulators in memory.
            var dot = ((SubBlockDot<TLanes>(w, a, 0, grid, signTable) + SubBlockDot<TLanes>(w, a, 1, grid, signTable))
                    + (SubBlockDot<TLanes>(w, a, 2, grid, signTable) + SubBlockDot<TLanes>(w, a, 3, grid, signTable)))
                + ((SubBlockDot<TLanes>(w, a, 4, grid, signTable) + SubBlockDot<TLanes>(w, a, 5, grid, signTable))
                    + (SubBlockDot<TLanes>(w, a, 6, grid, signTable) + SubBlockDot<TLanes>(w, a, 7, grid, signTable)));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(table[TLanes.ScaleBits(w)] * da[b]), acc);
        }
        return 0.125f * Vector256.Sum(acc);
    }

    [MethodImpl(KernelRoot.Options)]
    private static void Unpack<TLanes>(byte* w, int n, byte* u) where TLanes : struct, ILanes
    {
        float* table = HalfFloat.TablePointer;
        ulong* grid = TLanes.Grid;
        ulong* signTable = TLanes.SignTable;
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
                var (magnitudes, signs, scales) = TLanes.SubBlock(w, ib, grid, signTable);
                (Avx2.Sign(magnitudes.AsSByte(), signs) + bias).AsByte().Store(u + b * SuperBlock + 32 * ib);
                scales.Store(pairScales + b * SuperBlock / 2 + 16 * ib);
                offsets[b * Groups + 2 * ib] = d * TLanes.MaxMagnitude * scales.GetElement(0);
                offsets[b * Groups + 2 * ib + 1] = d * TLanes.MaxMagnitude * scales.GetElement(8);
            }
        }
    }
}
