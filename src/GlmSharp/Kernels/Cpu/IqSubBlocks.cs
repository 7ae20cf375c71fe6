using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// What <see cref="IqSubBlockKernels"/> reads from a block of an IQ type whose 256 values are eight 32-value
/// sub-blocks of small signed integers, each sub-block with an integer scale: value = D·scale·(sign·magnitude).
/// </summary>
internal unsafe interface IIqSubBlocks
{
    static abstract int Bytes { get; }

    /// <summary>The block's float scale times any constant its integer scales leave out.</summary>
    static abstract float D(byte* block, float* halfTable);

    /// <summary>
    /// The type's lookup tables, for kernels to read once per call and pass to <see cref="SubBlock"/>: kernels are
    /// compiled fully optimised before the tables' class is initialised, so a static read inside their loops would
    /// repeat the initialisation check (as <see cref="HalfFloat.TablePointer"/> explains).
    /// </summary>
    static abstract byte* Tables { get; }

    /// <summary>The integer scale of sub-block <paramref name="s"/>.</summary>
    static abstract short Scale(byte* block, int s);

    /// <summary>
    /// Sub-block <paramref name="s"/>'s 32 magnitudes (at most 127) in element order, and for vpsignb a byte per
    /// element whose sign is the element's (never zero where the magnitude is not).
    /// </summary>
    static abstract (Vector256<byte> Magnitudes, Vector256<sbyte> Signs) SubBlock(byte* block, int s, byte* tables);
}

/// <summary>IQ4_XS (<see cref="Iq4Xs"/>): sixteen indices per half sub-block, looked up in the IQ4_NL grid with vpshufb.</summary>
internal readonly unsafe struct Iq4XsSubBlocks : IIqSubBlocks
{
    public static int Bytes => Iq4Xs.BytesPerBlock;

    /// <summary>None: the grid is a constant vector.</summary>
    public static byte* Tables => null;

    public static float D(byte* block, float* halfTable) => halfTable[*(ushort*)block];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short Scale(byte* block, int s) =>
        (short)((((block[Iq4Xs.ScalesLowOffset + (s >> 1)] >> (4 * (s & 1))) & 0x0f) | (((*(ushort*)(block + Iq4Xs.ScalesHighOffset) >> (2 * s)) & 3) << 4)) - 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Magnitudes, Vector256<sbyte> Signs) SubBlock(byte* block, int s, byte* tables)
    {
        var grid = Vector256.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113).AsByte();
        var packed = Vector128.Load(block + Iq4Xs.CodesOffset + 16 * s);
        var nibble = Vector128.Create((byte)0x0f);
        var indices = Vector256.Create(packed & nibble, Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble);
        var values = Avx2.Shuffle(grid, indices).AsSByte();
        return (Avx2.Abs(values), values);
    }
}

/// <summary>IQ3_XXS (<see cref="Iq3Xxs"/>): eight grid words per sub-block, and four 7-bit codes whose even-parity patterns become ±1 bytes.</summary>
internal readonly unsafe struct Iq3XxsSubBlocks : IIqSubBlocks
{
    private const int GridBytes = 256 * sizeof(uint);

    /// <summary>The grid, then for each 7-bit sign code its eight signs as bytes ±1 (<see cref="EvenParitySigns"/>).</summary>
    private static readonly byte* GridAndSigns = IqTables.GridAndSignBytes(Iq3Grids.Xxs, EvenParitySigns.Table);

    public static int Bytes => Iq3Xxs.BytesPerBlock;

    public static byte* Tables => GridAndSigns;

    public static float D(byte* block, float* halfTable) => 0.25f * halfTable[*(ushort*)block];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short Scale(byte* block, int s) => (short)(2 * (*(uint*)(block + Iq3Xxs.ScalesAndSignsOffset + 4 * s) >> 28) + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Magnitudes, Vector256<sbyte> Signs) SubBlock(byte* block, int s, byte* tables)
    {
        byte* q = block + Iq3Xxs.IndicesOffset + 8 * s;
        uint* grid = (uint*)tables;
        var magnitudes = Vector256.Create(grid[q[0]], grid[q[1]], grid[q[2]], grid[q[3]], grid[q[4]], grid[q[5]], grid[q[6]], grid[q[7]]);
        uint word = *(uint*)(block + Iq3Xxs.ScalesAndSignsOffset + 4 * s);
        ulong* signs = (ulong*)(tables + GridBytes);
        var signBytes = Vector256.Create(signs[word & 127], signs[(word >> 7) & 127], signs[(word >> 14) & 127], signs[(word >> 21) & 127]);
        return (magnitudes.AsByte(), signBytes.AsSByte());
    }
}

/// <summary>IQ3_S (<see cref="Iq3S"/>): eight 9-bit grid indices per sub-block, and one sign bit per element spread to bytes.</summary>
internal readonly unsafe struct Iq3SSubBlocks : IIqSubBlocks
{
    private static readonly byte* Grid = IqTables.GridAndSignBytes(Iq3Grids.S, []);

    public static int Bytes => Iq3S.BytesPerBlock;

    public static byte* Tables => Grid;

    public static float D(byte* block, float* halfTable) => halfTable[*(ushort*)block];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short Scale(byte* block, int s) => (short)(2 * ((block[Iq3S.ScalesOffset + (s >> 1)] >> (4 * (s & 1))) & 0x0f) + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Magnitudes, Vector256<sbyte> Signs) SubBlock(byte* block, int s, byte* tables)
    {
        ulong low = *(ulong*)(block + Iq3S.IndicesOffset + 8 * s);
        uint high = block[Iq3S.HighBitsOffset + s];
        uint* grid = (uint*)tables;
        // The eight 9-bit indices as 16-bit lanes of two words: pdep spreads the low bytes and the ninth bits.
        // (Forming each index in scalar registers took five instructions an index: 0.78× ggml's row dot, now 0.96×.)
        ulong first = IqTables.Deposit((uint)low, 0x00FF00FF00FF00FFul) | IqTables.Deposit(high, 0x0100010001000100ul);
        ulong last = IqTables.Deposit((uint)(low >> 32), 0x00FF00FF00FF00FFul) | IqTables.Deposit(high >> 4, 0x0100010001000100ul);
        var magnitudes = Vector256.Create(
            grid[(ushort)first], grid[(ushort)(first >> 16)], grid[(ushort)(first >> 32)], grid[first >> 48],
            grid[(ushort)last], grid[(ushort)(last >> 16)], grid[(ushort)(last >> 32)], grid[last >> 48]);
        // Byte j takes byte j / 8 of the sign word, then tests bit j % 8 of it.
        var spread = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var bitOfByte = Vector256.Create(0x8040201008040201ul).AsByte();
        var bits = Avx2.Shuffle(Vector256.Create(*(uint*)(block + Iq3S.SignsOffset + 4 * s)).AsByte(), spread) & bitOfByte;
        var negative = Vector256.Equals(bits, bitOfByte);
        return (magnitudes.AsByte(), (negative | Vector256.Create((byte)1)).AsSByte());
    }
}

/// <summary>Lookup tables the IQ kernels read through pointers, allocated once and never freed, and the bit spreading they share.</summary>
internal static unsafe class IqTables
{
    /// <summary>pdep: the low bits of <paramref name="value"/> placed, in order, at the set bits of <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Deposit(ulong value, ulong mask) =>
        Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitDeposit(value, mask) : DepositInSoftware(value, mask);

    /// <summary>What pdep gives, for AVX2 processors without BMI2.</summary>
    internal static ulong DepositInSoftware(ulong value, ulong mask)
    {
        ulong result = 0;
        for (; mask != 0; mask &= mask - 1, value >>= 1)
            if ((value & 1) != 0) result |= mask & ~(mask - 1);
        return result;
    }

    /// <summary>
    /// A grid, then each 8-bit sign pattern (bit j: element j negative) as eight bytes −1 or +1, in one 64-byte
    /// aligned allocation.
    /// </summary>
    public static byte* GridAndSignBytes(ReadOnlySpan<uint> grid, ReadOnlySpan<byte> signPatterns)
    {
        int gridBytes = grid.Length * sizeof(uint);
        var tables = (byte*)NativeMemory.AlignedAlloc((nuint)(gridBytes + signPatterns.Length * sizeof(ulong)), 64);
        grid.CopyTo(new Span<uint>(tables, grid.Length));
        var words = (ulong*)(tables + gridBytes);
        for (int code = 0; code < signPatterns.Length; code++)
        {
            ulong word = 0;
            for (int j = 0; j < 8; j++) word |= (ulong)((signPatterns[code] >> j & 1) != 0 ? 0xFF : 0x01) << (8 * j);
            words[code] = word;
        }
        return tables;
    }
}
