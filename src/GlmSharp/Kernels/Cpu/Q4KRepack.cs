using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Tensors.GgmlType.Q4_Kx8"/> layout of <see cref="RepackedKQuantKernels"/>: rows in groups of eight and,
/// for each 256-value super-block of a group, 1,152 bytes, as many as its eight stored blocks:
/// <list type="bullet">
/// <item>the eight rows' fp16 d (16 bytes), then their fp16 dmin (16 bytes);</item>
/// <item>the twelve packed scale bytes of the stored blocks transposed (96 bytes): byte k of row r at 8k + r, so one
/// vector operation decodes a 6-bit scale or min of all eight rows;</item>
/// <item>32 chunks of codes (1,024 bytes): chunk 8j + c holds in its 4-byte lane r the stored code bytes 32j + 4c … +3
/// of row r, low nibbles elements 64j + 4c … of sub-block 2j and high nibbles the same of sub-block 2j + 1.</item>
/// </list>
/// </summary>
internal static unsafe class Q4KRepack
{
    public const int BlockBytes = 144, HeaderBytes = 32 + 96, ChunkBytes = 32;
    private const int Rows = Int8Repack.Rows, PackedScaleBytes = 12, StoredCodes = 16;

    /// <summary>Super-block <paramref name="block"/> of the eight stored rows at <paramref name="source"/> into the group at <paramref name="target"/>.</summary>
    /// <returns>False when a d or dmin is infinite or NaN, which the repacked kernels do not convert.</returns>
    public static bool RepackBlock(byte* source, long rowBytes, int block, byte* target)
    {
        bool finite = true;
        target += (long)block * Rows * BlockBytes;
        for (int r = 0; r < Rows; r++)
        {
            byte* stored = source + r * rowBytes + (long)block * BlockBytes;
            ushort d = ((ushort*)stored)[0], dmin = ((ushort*)stored)[1];
            finite &= !HalfFloat.IsNonFinite(d) && !HalfFloat.IsNonFinite(dmin);
            ((ushort*)target)[r] = d;
            ((ushort*)target)[Rows + r] = dmin;
            for (int k = 0; k < PackedScaleBytes; k++) target[32 + Rows * k + r] = stored[4 + k];
            var codes = (uint*)(stored + StoredCodes);
            var chunks = (uint*)(target + HeaderBytes);
            for (int c = 0; c < 32; c++) chunks[c * Rows + r] = codes[c];
        }
        return finite;
    }

    /// <summary>Super-block <paramref name="block"/> of row <paramref name="row"/> as stored (144 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(byte* matrix, long rowBytes, long row, int block, byte* dst)
    {
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * BlockBytes;
        ((ushort*)dst)[0] = ((ushort*)source)[lane];
        ((ushort*)dst)[1] = ((ushort*)source)[Rows + lane];
        for (int k = 0; k < PackedScaleBytes; k++) dst[4 + k] = source[32 + Rows * k + lane];
        var chunks = (uint*)(source + HeaderBytes);
        for (int c = 0; c < 32; c++) ((uint*)(dst + StoredCodes))[c] = chunks[c * Rows + lane];
    }

    /// <summary>
    /// The eight rows of the group that starts at row <paramref name="firstRow"/>, as stored, one after another at
    /// <paramref name="dst"/> (<paramref name="rowBytes"/> each): the prefill tile's unpacking reads the stored layout.
    /// The codes come back by an 8 × 8 transpose of 32-bit lanes per eight chunks.
    /// </summary>
    public static void CopyGroupRows(byte* matrix, long rowBytes, long firstRow, int superBlocks, byte* dst)
    {
        byte* group = matrix + firstRow * rowBytes;
        for (int b = 0; b < superBlocks; b++)
        {
            byte* source = group + (long)b * Rows * BlockBytes;
            for (int r = 0; r < Rows; r++)
            {
                byte* stored = dst + r * rowBytes + (long)b * BlockBytes;
                ((ushort*)stored)[0] = ((ushort*)source)[r];
                ((ushort*)stored)[1] = ((ushort*)source)[Rows + r];
                for (int k = 0; k < PackedScaleBytes; k++) stored[4 + k] = source[32 + Rows * k + r];
            }
            for (int j = 0; j < 4; j++)
                TransposeChunks(source + HeaderBytes + 8 * j * ChunkBytes, dst + (long)b * BlockBytes + StoredCodes + 32 * j, rowBytes);
        }
    }

    /// <summary>Eight chunks (lane r of chunk c: four code bytes of row r) into each row's 32 stored code bytes.</summary>
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
