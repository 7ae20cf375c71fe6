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
}
