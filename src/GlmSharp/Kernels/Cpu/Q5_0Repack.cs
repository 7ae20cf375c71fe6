using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Tensors.GgmlType.Q5_0x8"/> layout of <see cref="RepackedInt8Kernels.DotQ5_0{TTile}"/>: rows in groups of
/// eight and, for each 32-value block of a group, 176 bytes, as many as its eight stored blocks:
/// <list type="bullet">
/// <item>the eight rows' fp16 scales (16 bytes);</item>
/// <item>four chunks of nibbles (128 bytes) as in <see cref="Tensors.GgmlType.Q4_0x8"/>: lane r of chunk c holds the stored
/// nibble bytes 4c … 4c + 3 of row r (elements 4c + j in the low nibbles, 16 + 4c + j in the high);</item>
/// <item>the fifth bits re-ordered (32 bytes): byte j of lane r holds in bit c the fifth bit of element 4c + j and in bit
/// 4 + c that of element 16 + 4c + j, so one shift by a constant per chunk and nibble half brings them to bit 4.</item>
/// </list>
/// Stored Q5_0 spreads each block's 32 fifth bits over a 32-bit word in element order, which takes a byte shuffle, a
/// compare and two masks per 32 values to place; here it is a shift and a mask.
/// </summary>
internal static unsafe class Q5_0Repack
{
    public const int StoredBlockBytes = 22, ScaleBytes = Rows * sizeof(ushort), ChunkBytes = 32, Chunks = 4;
    public const int FifthBitsOffset = ScaleBytes + Chunks * ChunkBytes;
    private const int Rows = Int8Repack.Rows, FifthBitsStored = 2, NibblesStored = 6;

    /// <summary>Block <paramref name="block"/> of the eight stored rows at <paramref name="source"/> into the group at <paramref name="target"/>.</summary>
    /// <returns>False when a scale is infinite or NaN, which the repacked kernel does not convert.</returns>
    public static bool RepackBlock(byte* source, long rowBytes, int block, byte* target)
    {
        bool finite = true;
        target += (long)block * Rows * StoredBlockBytes;
        var fifthBits = stackalloc uint[Rows];
        for (int r = 0; r < Rows; r++)
        {
            byte* stored = source + r * rowBytes + (long)block * StoredBlockBytes;
            ushort d = *(ushort*)stored;
            finite &= !HalfFloat.IsNonFinite(d);
            ((ushort*)target)[r] = d;
            var nibbles = (uint*)(stored + NibblesStored);
            for (int c = 0; c < Chunks; c++) ((uint*)(target + ScaleBytes))[c * Rows + r] = nibbles[c];
            fifthBits[r] = *(uint*)(stored + FifthBitsStored);
        }
        Reorder(Vector256.Load(fifthBits)).Store((uint*)(target + FifthBitsOffset));
        return finite;
    }

    /// <summary>Block <paramref name="block"/> of row <paramref name="row"/> as stored (22 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(byte* matrix, long rowBytes, long row, int block, byte* dst)
    {
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * StoredBlockBytes;
        *(ushort*)dst = ((ushort*)source)[lane];
        *(uint*)(dst + FifthBitsStored) = Restore(Vector256.Create(((uint*)(source + FifthBitsOffset))[lane])).ToScalar();
        for (int c = 0; c < Chunks; c++) ((uint*)(dst + NibblesStored))[c] = ((uint*)(source + ScaleBytes))[c * Rows + lane];
    }

    /// <summary>
    /// The eight rows of the group that starts at row <paramref name="firstRow"/>, as stored, one after another at
    /// <paramref name="dst"/>: the prefill tile's unpacking reads the stored layout. The eight rows' fifth bits are put
    /// back in one vector per block.
    /// </summary>
    public static void CopyGroupRows(byte* matrix, long rowBytes, long firstRow, int blocks, byte* dst)
    {
        byte* group = matrix + firstRow * rowBytes;
        var fifthBits = stackalloc uint[Rows];
        for (int b = 0; b < blocks; b++)
        {
            byte* source = group + (long)b * Rows * StoredBlockBytes;
            Restore(Vector256.Load((uint*)(source + FifthBitsOffset))).Store(fifthBits);
            for (int r = 0; r < Rows; r++)
            {
                byte* stored = dst + r * rowBytes + (long)b * StoredBlockBytes;
                *(ushort*)stored = ((ushort*)source)[r];
                *(uint*)(stored + FifthBitsStored) = fifthBits[r];
                for (int c = 0; c < Chunks; c++) ((uint*)(stored + NibblesStored))[c] = ((uint*)(source + ScaleBytes))[c * Rows + r];
            }
        }
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
