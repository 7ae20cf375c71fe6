using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// How the 256-bit kernels read one of ggml's 32-value blocks with one scale (the "legacy" types other than Q4_0 and
/// Q8_0, and MXFP4, whose E2M1 values doubled are small integers): each weight is
/// w = d·c + <see cref="Offset"/>, with c a byte code (unsigned 0–31, or for IQ4_NL and MXFP4 the signed grid value), so the
/// integer dot Σc·a meets the activation codes directly and the offset meets the block's activation sum.
/// </summary>
internal unsafe interface ILegacyBlock
{
    static abstract int Bytes { get; }

    /// <summary>False where codes are signed (IQ4_NL's grid values), which plain AVX2 multiplies through the sign trick.</summary>
    static abstract bool Unsigned { get; }

    static abstract bool HasOffset { get; }

    /// <summary>The table <see cref="Scale"/> and <see cref="Offset"/> read scales from: fp16 values, or MXFP4's E8M0 bytes.</summary>
    static abstract float* ScaleTable { get; }

    static abstract float Scale(byte* block, float* table);

    /// <summary>What each weight adds besides d·c: the minimum m of Q4_1 and Q5_1, −16·d for Q5_0, 0 for IQ4_NL and MXFP4.</summary>
    static abstract float Offset(byte* block, float* table);

    /// <summary>
    /// The offset as a fixed multiple of d where it is one (Q5_0's −16), else 0: the kernels then sum d times the
    /// activation sums and multiply once at the end instead of looking up every block's offset apart.
    /// </summary>
    static abstract float OffsetPerScale { get; }

    /// <summary>The codes of the blocks at <paramref name="block"/> and the next: elements 0–15 of both, then 16–31 of both
    /// (the <see cref="ActivationLayout.NibblePairs"/> order, in which nibbles need no moving).</summary>
    static abstract (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block);

    /// <summary>The 32 codes of one block in element order.</summary>
    static abstract Vector256<byte> Single(byte* block);
}

/// <summary>Nibble and fifth-bit unpacking shared by the block readers.</summary>
internal static unsafe class LegacyBits
{
    private static Vector256<byte> Mask { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)0x0f); }

    /// <summary>Per lane, bit (i mod 8) of byte i: what a broadcast byte is compared against to spread its bits.</summary>
    private static Vector256<byte> BitOfByte { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
        1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128).AsByte(); }

    /// <summary>Bytes of a pair's two 32-bit masks, broadcast as one 64-bit value, that hold elements 0–15 of each block.</summary>
    private static Vector256<byte> FirstHalfBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
        4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5); }

    private static Vector256<byte> SecondHalfBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7); }

    private static Vector256<byte> ElementOrderBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) NibblePair(byte* first, byte* second)
    {
        var packed = Vector256.Create(Vector128.Load(first), Vector128.Load(second));
        return (packed & Mask, Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Mask);
    }

    /// <summary>The nibbles of two blocks looked up in a 16-entry grid held in both lanes, in the order of <see cref="NibblePair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) GridPair(Vector256<byte> grid, byte* first, byte* second)
    {
        var (low, high) = NibblePair(first, second);
        return (Avx2.Shuffle(grid, low), Avx2.Shuffle(grid, high));
    }

    /// <summary>Fifth bits of two blocks as 16 where set, in the order of <see cref="NibblePair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) FifthBitPair(uint first, uint second)
    {
        var bits = Vector256.Create((ulong)second << 32 | first).AsByte();
        return (Spread(Avx2.Shuffle(bits, FirstHalfBytes)), Spread(Avx2.Shuffle(bits, SecondHalfBytes)));
    }

    /// <summary>Fifth bits of one block as 16 where set, in element order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBits(uint bits) => Spread(Avx2.Shuffle(Vector256.Create(bits).AsByte(), ElementOrderBytes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Spread(Vector256<byte> bytes) =>
        Vector256.Equals(bytes & BitOfByte, BitOfByte) & Vector256.Create((byte)16);
}

internal readonly unsafe struct Q4_1Block : ILegacyBlock
{
    public static int Bytes => 20;
    public static bool Unsigned => true;
    public static bool HasOffset => true;
    public static float* ScaleTable => HalfFloat.TablePointer;
    public static float Scale(byte* block, float* table) => table[*(ushort*)block];
    public static float Offset(byte* block, float* table) => table[*(ushort*)(block + 2)];
    public static float OffsetPerScale => 0f;
    public static (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block) => LegacyBits.NibblePair(block + 4, block + Bytes + 4);
    public static Vector256<byte> Single(byte* block) => Int8Kernels.Nibbles(block + 4);
}

internal readonly unsafe struct Q5_0Block : ILegacyBlock
{
    public static int Bytes => 22;
    public static bool Unsigned => true;
    public static bool HasOffset => true;
    public static float* ScaleTable => HalfFloat.TablePointer;
    public static float Scale(byte* block, float* table) => table[*(ushort*)block];
    public static float Offset(byte* block, float* table) => -16f * table[*(ushort*)block];
    public static float OffsetPerScale => -16f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block)
    {
        var (low, high) = LegacyBits.NibblePair(block + 6, block + Bytes + 6);
        var (lowBits, highBits) = LegacyBits.FifthBitPair(*(uint*)(block + 2), *(uint*)(block + Bytes + 2));
        return (low | lowBits, high | highBits);
    }

    public static Vector256<byte> Single(byte* block) => Int8Kernels.Nibbles(block + 6) | LegacyBits.FifthBits(*(uint*)(block + 2));
}

internal readonly unsafe struct Q5_1Block : ILegacyBlock
{
    public static int Bytes => 24;
    public static bool Unsigned => true;
    public static bool HasOffset => true;
    public static float* ScaleTable => HalfFloat.TablePointer;
    public static float Scale(byte* block, float* table) => table[*(ushort*)block];
    public static float Offset(byte* block, float* table) => table[*(ushort*)(block + 2)];
    public static float OffsetPerScale => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block)
    {
        var (low, high) = LegacyBits.NibblePair(block + 8, block + Bytes + 8);
        var (lowBits, highBits) = LegacyBits.FifthBitPair(*(uint*)(block + 4), *(uint*)(block + Bytes + 4));
        return (low | lowBits, high | highBits);
    }

    public static Vector256<byte> Single(byte* block) => Int8Kernels.Nibbles(block + 8) | LegacyBits.FifthBits(*(uint*)(block + 4));
}

/// <summary>IQ4_NL: the 4-bit indices looked up in the grid with one vpshufb, giving signed codes.</summary>
internal readonly unsafe struct Iq4NlBlock : ILegacyBlock
{
    private static Vector256<byte> Grid { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(
        Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113),
        Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)).AsByte(); }

    public static int Bytes => 18;
    public static bool Unsigned => false;
    public static bool HasOffset => false;
    public static float* ScaleTable => HalfFloat.TablePointer;
    public static float Scale(byte* block, float* table) => table[*(ushort*)block];
    public static float Offset(byte* block, float* table) => 0f;
    public static float OffsetPerScale => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block) => LegacyBits.GridPair(Grid, block + 2, block + Bytes + 2);

    public static Vector256<byte> Single(byte* block) => Avx2.Shuffle(Grid, Int8Kernels.Nibbles(block + 2));
}

/// <summary>
/// MXFP4: an E8M0 exponent byte, then 16 bytes of E2M1 nibbles laid out as Q4_0's. Each nibble maps by one vpshufb to
/// its value doubled (−12 to 12, signed as IQ4_NL's grid values), with the scale halved to match. Signed codes keep
/// each block's integer dot exact, as llama.cpp's is: codes shifted to unsigned with the shift taken back through the
/// activation sums cancel in fp32 and moved logits by up to 1e-2 where a rounding of the next layer's activations flipped.
/// </summary>
internal readonly unsafe struct Mxfp4Block : ILegacyBlock
{
    private static Vector128<sbyte> DoubledValues { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((sbyte)0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12); }
    private static Vector256<byte> DoubledValuesTwice { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(DoubledValues, DoubledValues).AsByte(); }

    public static int Bytes => 17;
    public static bool Unsigned => false;
    public static bool HasOffset => false;
    public static float* ScaleTable => E8M0Halves.Pointer;
    public static float Scale(byte* block, float* table) => table[*block];
    public static float Offset(byte* block, float* table) => 0f;
    public static float OffsetPerScale => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte> Low, Vector256<byte> High) Pair(byte* block) =>
        LegacyBits.GridPair(DoubledValuesTwice, block + 1, block + Bytes + 1);

    public static Vector256<byte> Single(byte* block) => Avx2.Shuffle(DoubledValuesTwice, Int8Kernels.Nibbles(block + 1));
}

/// <summary>Half of every E8M0 exponent byte as a float, read per block inside dot loops (see HalfFloat for why a table).</summary>
internal static unsafe class E8M0Halves
{
    private static readonly float[] Table = Build();

    public static float* Pointer { get; } = (float*)Unsafe.AsPointer(ref Table[0]);

    private static float[] Build()
    {
        var table = GC.AllocateArray<float>(256, pinned: true);
        for (int e = 0; e < 256; e++) table[e] = GlmSharp.Tensors.Fp4.E8M0Half((byte)e);
        return table;
    }
}
