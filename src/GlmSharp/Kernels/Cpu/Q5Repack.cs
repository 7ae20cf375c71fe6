using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Tensors.GgmlType.Q5_0x8"/> and <see cref="Tensors.GgmlType.Q5_1x8"/> layouts of
/// <see cref="RepackedInt8Kernels.DotQ5_0{TTile}"/> and <see cref="RepackedInt8Kernels.DotQ5_1{TTile}"/>: rows in groups
/// of eight and, for each 32-value block of a group, as many bytes as its eight stored blocks (176 for Q5_0, 192 for
/// Q5_1):
/// <list type="bullet">
/// <item>the eight rows' fp16 scales d (16 bytes), then for Q5_1 their fp16 mins m (16 bytes);</item>
/// <item>four chunks of nibbles (128 bytes) as in <see cref="Tensors.GgmlType.Q4_0x8"/>: lane r of chunk c holds the stored
/// nibble bytes 4c … 4c + 3 of row r (elements 4c + j in the low nibbles, 16 + 4c + j in the high);</item>
/// <item>the fifth bits re-ordered (32 bytes): byte j of lane r holds in bit c the fifth bit of element 4c + j and in bit
/// 4 + c that of element 16 + 4c + j, so one shift by a constant per chunk and nibble half brings them to bit 4.</item>
/// </list>
/// Stored Q5_0 and Q5_1 spread each block's 32 fifth bits over a 32-bit word in element order, which takes a byte
/// shuffle, a compare and two masks per 32 values to place; here it is a shift and a mask.
/// </summary>
internal static unsafe class Q5Repack
{
    public const int ChunkBytes = 32, Chunks = 4;
    private const int Rows = Int8Repack.Rows, HalfBytes = Rows * sizeof(ushort);

    /// <summary>Bytes of one stored block: 22 for Q5_0, 24 with Q5_1's min.</summary>
    public static int StoredBlockBytes(bool hasMin) => hasMin ? 24 : 22;

    /// <summary>Where a repacked block's nibble chunks begin: after the scales, and the mins where it has them.</summary>
    public static int ChunksOffset(bool hasMin) => hasMin ? 2 * HalfBytes : HalfBytes;

    public static int FifthBitsOffset(bool hasMin) => ChunksOffset(hasMin) + Chunks * ChunkBytes;

    private static int StoredFifthBits(bool hasMin) => hasMin ? 4 : 2;

    private static int StoredNibbles(bool hasMin) => StoredFifthBits(hasMin) + 4;

    /// <summary>Block <paramref name="block"/> of the eight stored rows at <paramref name="source"/> into the group at <paramref name="target"/>.</summary>
    /// <returns>False when a scale or min is infinite or NaN, which the repacked kernels do not convert.</returns>
    public static bool RepackBlock(byte* source, long rowBytes, int block, byte* target, bool hasMin)
    {
        bool finite = true;
        int blockBytes = StoredBlockBytes(hasMin);
        target += (long)block * Rows * blockBytes;
        var fifthBits = stackalloc uint[Rows];
        for (int r = 0; r < Rows; r++)
        {
            byte* stored = source + r * rowBytes + (long)block * blockBytes;
            ushort d = *(ushort*)stored;
            finite &= !HalfFloat.IsNonFinite(d);
            ((ushort*)target)[r] = d;
            if (hasMin)
            {
                ushort m = ((ushort*)stored)[1];
                finite &= !HalfFloat.IsNonFinite(m);
                ((ushort*)target)[Rows + r] = m;
            }
            var nibbles = (uint*)(stored + StoredNibbles(hasMin));
            for (int c = 0; c < Chunks; c++) ((uint*)(target + ChunksOffset(hasMin)))[c * Rows + r] = nibbles[c];
            fifthBits[r] = *(uint*)(stored + StoredFifthBits(hasMin));
        }
        Reorder(Vector256.Load(fifthBits)).Store((uint*)(target + FifthBitsOffset(hasMin)));
        return finite;
    }

    /// <summary>Block <paramref name="block"/> of row <paramref name="row"/> as stored (22 or 24 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(byte* matrix, long rowBytes, long row, int block, byte* dst, bool hasMin)
    {
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * StoredBlockBytes(hasMin);
        uint fifthBits = Restore(Vector256.Create(((uint*)(source + FifthBitsOffset(hasMin)))[lane])).ToScalar();
        CopyRow(source, lane, fifthBits, dst, hasMin);
    }

    /// <summary>
    /// The eight rows of the group that starts at row <paramref name="firstRow"/>, as stored, one after another at
    /// <paramref name="dst"/>: the prefill tile's unpacking reads the stored layout. The eight rows' fifth bits are put
    /// back in one vector per block.
    /// </summary>
    public static void CopyGroupRows(byte* matrix, long rowBytes, long firstRow, int blocks, byte* dst, bool hasMin)
    {
        int blockBytes = StoredBlockBytes(hasMin);
        byte* group = matrix + firstRow * rowBytes;
        var fifthBits = stackalloc uint[Rows];
        for (int b = 0; b < blocks; b++)
        {
            byte* source = group + (long)b * Rows * blockBytes;
            Restore(Vector256.Load((uint*)(source + FifthBitsOffset(hasMin)))).Store(fifthBits);
            for (int r = 0; r < Rows; r++) CopyRow(source, r, fifthBits[r], dst + r * rowBytes + (long)b * blockBytes, hasMin);
        }
    }

    /// <summary>Lane <paramref name="lane"/> of a repacked block as its stored block, its fifth bits already restored.</summary>
    private static void CopyRow(byte* source, int lane, uint fifthBits, byte* stored, bool hasMin)
    {
        *(ushort*)stored = ((ushort*)source)[lane];
        if (hasMin) ((ushort*)stored)[1] = ((ushort*)source)[Rows + lane];
        *(uint*)(stored + StoredFifthBits(hasMin)) = fifthBits;
        for (int c = 0; c < Chunks; c++) ((uint*)(stored + StoredNibbles(hasMin)))[c] = ((uint*)(source + ChunksOffset(hasMin)))[c * Rows + lane];
    }

    // Element e = 16h + 4c + j sits at bit 8j + 4h + c of the re-ordered word: the bits of byte j are the stored word's
    // bits j, j + 4, j + 8, …, so re-ordering gathers every fourth bit into a byte and restoring spreads a byte back out.

    private static Vector256<uint> Reorder(Vector256<uint> fifthBits)
    {
        var reordered = Vector256<uint>.Zero;
        for (int j = 0; j < 4; j++) reordered |= GatherEveryFourthBit(Vector256.ShiftRightLogical(fifthBits, j)) << 8 * j;
        return reordered;
    }

    private static Vector256<uint> Restore(Vector256<uint> reordered)
    {
        var fifthBits = Vector256<uint>.Zero;
        for (int j = 0; j < 4; j++) fifthBits |= SpreadToEveryFourthBit(Vector256.ShiftRightLogical(reordered, 8 * j) & Vector256.Create(0xffu)) << j;
        return fifthBits;
    }

    /// <summary>Bits 0, 4, 8, …, 28 of each lane to bits 0–7.</summary>
    private static Vector256<uint> GatherEveryFourthBit(Vector256<uint> x)
    {
        x &= Vector256.Create(0x11111111u);
        x = (x | Vector256.ShiftRightLogical(x, 3)) & Vector256.Create(0x03030303u);
        x = (x | Vector256.ShiftRightLogical(x, 6)) & Vector256.Create(0x000f000fu);
        return (x | Vector256.ShiftRightLogical(x, 12)) & Vector256.Create(0xffu);
    }

    /// <summary>Bits 0–7 of each lane to bits 0, 4, 8, …, 28.</summary>
    private static Vector256<uint> SpreadToEveryFourthBit(Vector256<uint> x)
    {
        x = (x | Vector256.ShiftLeft(x, 12)) & Vector256.Create(0x000f000fu);
        x = (x | Vector256.ShiftLeft(x, 6)) & Vector256.Create(0x03030303u);
        return (x | Vector256.ShiftLeft(x, 3)) & Vector256.Create(0x11111111u);
    }
}
