using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Tensors.GgmlType.Q4_Kx8"/> and <see cref="Tensors.GgmlType.Q5_Kx8"/> layouts of
/// <see cref="RepackedKQuantKernels"/>: rows in groups of eight and, for each 256-value super-block of a group, as many
/// bytes as its eight stored blocks (1,152 for Q4_K, 1,408 for Q5_K):
/// <list type="bullet">
/// <item>the eight rows' fp16 d (16 bytes), then their fp16 dmin (16 bytes);</item>
/// <item>the twelve packed scale bytes of the stored blocks transposed (96 bytes): byte k of row r at 8k + r, so one
/// vector operation decodes a 6-bit scale or min of all eight rows;</item>
/// <item>Q5_K only: eight chunks of top bits (256 bytes), described below;</item>
/// <item>32 chunks of codes (1,024 bytes): chunk 8j + c holds in its 4-byte lane r the stored code bytes 32j + 4c … +3
/// of row r, low nibbles elements 64j + 4c … of sub-block 2j and high nibbles the same of sub-block 2j + 1 (for Q4_K;
/// Q5_K's codes of those elements are arranged as below).</item>
/// </list>
/// Q5_K's two 5-bit codes of a byte (10 bits) do not fit it, so each code byte holds the whole low code in bits 0–4 and
/// the high code's bits 0–2 in bits 5–7; the high code's bits 3–4 go to bits 2j and 2j + 1 of the same byte of
/// top-bit chunk c. A chunk then gives its low codes by one mask and its high codes by two shifts, two masks and an or,
/// against five more operations for nibbles and a separate fifth-bit plane. The repack first lays the stored bytes out
/// that way (nibbles, and the stored fifth bits as the eight chunks) and then merges the bits in place, a vector at a
/// time; putting rows back as stored splits them again.
/// </summary>
internal static unsafe class ScaleMinRepack
{
    public const int ScalesOffset = 2 * Rows * sizeof(ushort), TopBitsOffset = ScalesOffset + Rows * PackedScaleBytes, ChunkBytes = 32;
    private const int Rows = Int8Repack.Rows, PackedScaleBytes = 12, StoredScales = 4, StoredFifthBits = 16, TopBitChunks = 8, CodeChunks = 32;

    /// <summary>Bytes of one stored super-block: 144 for Q4_K, 176 with Q5_K's fifth bits.</summary>
    public static int StoredBlockBytes(bool fiveBit) => fiveBit ? ScalarKQuantKernels.Q5_KBytes : ScalarKQuantKernels.Q4_KBytes;

    /// <summary>Where a repacked super-block's code chunks begin: after the fifth bits, where it has them.</summary>
    public static int CodesOffset(bool fiveBit) => TopBitsOffset + (fiveBit ? TopBitChunks * ChunkBytes : 0);

    private static int StoredCodes(bool fiveBit) => StoredFifthBits + (fiveBit ? TopBitChunks * 4 : 0);

    /// <summary>Super-block <paramref name="block"/> of the eight stored rows at <paramref name="source"/> into the group at <paramref name="target"/>.</summary>
    /// <returns>False when a d or dmin is infinite or NaN, which the repacked kernels do not convert.</returns>
    public static bool RepackBlock(byte* source, long rowBytes, int block, byte* target, bool fiveBit)
    {
        bool finite = true;
        int blockBytes = StoredBlockBytes(fiveBit);
        target += (long)block * Rows * blockBytes;
        for (int r = 0; r < Rows; r++)
        {
            byte* stored = source + r * rowBytes + (long)block * blockBytes;
            ushort d = ((ushort*)stored)[0], dmin = ((ushort*)stored)[1];
            finite &= !HalfFloat.IsNonFinite(d) && !HalfFloat.IsNonFinite(dmin);
            ((ushort*)target)[r] = d;
            ((ushort*)target)[Rows + r] = dmin;
            for (int k = 0; k < PackedScaleBytes; k++) target[ScalesOffset + Rows * k + r] = stored[StoredScales + k];
            if (fiveBit) Interleave((uint*)(stored + StoredFifthBits), TopBitChunks, (uint*)(target + TopBitsOffset), r);
            Interleave((uint*)(stored + StoredCodes(fiveBit)), CodeChunks, (uint*)(target + CodesOffset(fiveBit)), r);
        }
        if (fiveBit) MergeTopBits(target);
        return finite;
    }

    /// <summary>Super-block <paramref name="block"/> of row <paramref name="row"/> as stored (144 or 176 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(byte* matrix, long rowBytes, long row, int block, byte* dst, bool fiveBit)
    {
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * StoredBlockBytes(fiveBit);
        byte* split = stackalloc byte[Rows * ScalarKQuantKernels.Q5_KBytes];
        if (fiveBit) source = SplitTopBits(source, split);
        ((ushort*)dst)[0] = ((ushort*)source)[lane];
        ((ushort*)dst)[1] = ((ushort*)source)[Rows + lane];
        for (int k = 0; k < PackedScaleBytes; k++) dst[StoredScales + k] = source[ScalesOffset + Rows * k + lane];
        if (fiveBit) Deinterleave((uint*)(source + TopBitsOffset), TopBitChunks, (uint*)(dst + StoredFifthBits), lane);
        Deinterleave((uint*)(source + CodesOffset(fiveBit)), CodeChunks, (uint*)(dst + StoredCodes(fiveBit)), lane);
    }

    /// <summary>
    /// The eight rows of the group that starts at row <paramref name="firstRow"/>, as stored, one after another at
    /// <paramref name="dst"/> (<paramref name="rowBytes"/> each): the prefill tile's unpacking reads the stored layout.
    /// The fifth bits and codes come back by an 8 × 8 transpose of 32-bit lanes per eight chunks.
    /// </summary>
    public static void CopyGroupRows(byte* matrix, long rowBytes, long firstRow, int superBlocks, byte* dst, bool fiveBit)
    {
        int blockBytes = StoredBlockBytes(fiveBit), codes = StoredCodes(fiveBit);
        byte* group = matrix + firstRow * rowBytes;
        byte* split = stackalloc byte[Rows * ScalarKQuantKernels.Q5_KBytes];
        for (int b = 0; b < superBlocks; b++)
        {
            byte* source = group + (long)b * Rows * blockBytes;
            if (fiveBit) source = SplitTopBits(source, split);
            byte* stored = dst + (long)b * blockBytes;
            for (int r = 0; r < Rows; r++)
            {
                ((ushort*)(stored + r * rowBytes))[0] = ((ushort*)source)[r];
                ((ushort*)(stored + r * rowBytes))[1] = ((ushort*)source)[Rows + r];
                for (int k = 0; k < PackedScaleBytes; k++) stored[r * rowBytes + StoredScales + k] = source[ScalesOffset + Rows * k + r];
            }
            if (fiveBit) TransposeChunks(source + TopBitsOffset, stored + StoredFifthBits, rowBytes);
            for (int j = 0; j < CodeChunks / 8; j++)
                TransposeChunks(source + CodesOffset(fiveBit) + 8 * j * ChunkBytes, stored + codes + 32 * j, rowBytes);
        }
    }

    /// <summary>
    /// A Q5_K group super-block laid out as stored (nibble chunks, fifth bits as eight chunks) to the kernel's codes: per
    /// chunk 8j + c, low code | (high code &amp; 7) &lt;&lt; 5, and the high codes' bits 3–4 to bits 2j, 2j + 1 of top-bit chunk c.
    /// </summary>
    private static void MergeTopBits(byte* superBlock)
    {
        byte* codes = superBlock + CodesOffset(fiveBit: true);
        for (int c = 0; c < TopBitChunks; c++)
        {
            var fifthBits = Vector256.Load(superBlock + TopBitsOffset + c * ChunkBytes);
            var topBits = Vector256<byte>.Zero;
            for (int j = 0; j < 4; j++)
            {
                byte* chunk = codes + (8 * j + c) * ChunkBytes;
                var nibbles = Vector256.Load(chunk);
                var low = (nibbles & Mask(0x0f)) | (ShiftLeft(ShiftRight(fifthBits, 2 * j) & Mask(1), 4));
                var high = ShiftRight(nibbles, 4) | (ShiftLeft(ShiftRight(fifthBits, 2 * j + 1) & Mask(1), 4));
                (low | ShiftLeft(high & Mask(7), 5)).Store(chunk);
                topBits |= ShiftLeft(ShiftRight(high, 3), 2 * j);
            }
            topBits.Store(superBlock + TopBitsOffset + c * ChunkBytes);
        }
    }

    /// <summary>The inverse of <see cref="MergeTopBits"/>, from the group super-block at <paramref name="source"/> into <paramref name="split"/>, which it returns.</summary>
    private static byte* SplitTopBits(byte* source, byte* split)
    {
        new ReadOnlySpan<byte>(source, TopBitsOffset).CopyTo(new Span<byte>(split, TopBitsOffset));
        int codes = CodesOffset(fiveBit: true);
        for (int c = 0; c < TopBitChunks; c++)
        {
            var topBits = Vector256.Load(source + TopBitsOffset + c * ChunkBytes);
            var fifthBits = Vector256<byte>.Zero;
            for (int j = 0; j < 4; j++)
            {
                int chunk = codes + (8 * j + c) * ChunkBytes;
                var merged = Vector256.Load(source + chunk);
                var low = merged & Mask(0x1f);
                var high = ShiftRight(merged, 5) | ShiftLeft(ShiftRight(topBits, 2 * j) & Mask(3), 3);
                ((low & Mask(0x0f)) | ShiftLeft(high & Mask(0x0f), 4)).Store(split + chunk);
                fifthBits |= ShiftLeft(ShiftRight(low, 4), 2 * j) | ShiftLeft(ShiftRight(high, 4), 2 * j + 1);
            }
            fifthBits.Store(split + TopBitsOffset + c * ChunkBytes);
        }
        return split;
    }

    private static Vector256<byte> Mask(byte bits) => Vector256.Create(bits);

    /// <summary>Each byte shifted on its own: a 16-bit shift, then the bits that crossed from the neighbouring byte dropped.</summary>
    private static Vector256<byte> ShiftLeft(Vector256<byte> v, int count) =>
        Vector256.ShiftLeft(v.AsUInt16(), count).AsByte() & Vector256.Create((byte)(0xff << count));

    private static Vector256<byte> ShiftRight(Vector256<byte> v, int count) =>
        Vector256.ShiftRightLogical(v.AsUInt16(), count).AsByte() & Vector256.Create((byte)(0xff >> count));

    private static void Interleave(uint* stored, int chunks, uint* target, int row)
    {
        for (int c = 0; c < chunks; c++) target[c * Rows + row] = stored[c];
    }

    private static void Deinterleave(uint* source, int chunks, uint* stored, int row)
    {
        for (int c = 0; c < chunks; c++) stored[c] = source[c * Rows + row];
    }

    /// <summary>Eight chunks (lane r of chunk c: four stored bytes of row r) into each row's 32 stored bytes.</summary>
    private static void TransposeChunks(byte* chunks, byte* dst, long rowBytes)
    {
        var c0 = Vector256.Load((int*)chunks);
        var c1 = Vector256.Load((int*)(chunks + 32));
        var c2 = Vector256.Load((int*)(chunks + 64));
        var c3 = Vector256.Load((int*)(chunks + 96));
        var c4 = Vector256.Load((int*)(chunks + 128));
        var c5 = Vector256.Load((int*)(chunks + 160));
        var c6 = Vector256.Load((int*)(chunks + 192));
        var c7 = Vector256.Load((int*)(chunks + 224));
        // Pairs of chunks interleaved by row, then quads, then the 128-bit halves that hold rows r and r + 4 swapped.
        var p01l = Avx2.UnpackLow(c0, c1).AsInt64(); var p01h = Avx2.UnpackHigh(c0, c1).AsInt64();
        var p23l = Avx2.UnpackLow(c2, c3).AsInt64(); var p23h = Avx2.UnpackHigh(c2, c3).AsInt64();
        var p45l = Avx2.UnpackLow(c4, c5).AsInt64(); var p45h = Avx2.UnpackHigh(c4, c5).AsInt64();
        var p67l = Avx2.UnpackLow(c6, c7).AsInt64(); var p67h = Avx2.UnpackHigh(c6, c7).AsInt64();
        var r04a = Avx2.UnpackLow(p01l, p23l); var r15a = Avx2.UnpackHigh(p01l, p23l);
        var r26a = Avx2.UnpackLow(p01h, p23h); var r37a = Avx2.UnpackHigh(p01h, p23h);
        var r04b = Avx2.UnpackLow(p45l, p67l); var r15b = Avx2.UnpackHigh(p45l, p67l);
        var r26b = Avx2.UnpackLow(p45h, p67h); var r37b = Avx2.UnpackHigh(p45h, p67h);
        Avx2.Permute2x128(r04a, r04b, 0x20).Store((long*)dst);
        Avx2.Permute2x128(r15a, r15b, 0x20).Store((long*)(dst + rowBytes));
        Avx2.Permute2x128(r26a, r26b, 0x20).Store((long*)(dst + 2 * rowBytes));
        Avx2.Permute2x128(r37a, r37b, 0x20).Store((long*)(dst + 3 * rowBytes));
        Avx2.Permute2x128(r04a, r04b, 0x31).Store((long*)(dst + 4 * rowBytes));
        Avx2.Permute2x128(r15a, r15b, 0x31).Store((long*)(dst + 5 * rowBytes));
        Avx2.Permute2x128(r26a, r26b, 0x31).Store((long*)(dst + 6 * rowBytes));
        Avx2.Permute2x128(r37a, r37b, 0x31).Store((long*)(dst + 7 * rowBytes));
    }
}
