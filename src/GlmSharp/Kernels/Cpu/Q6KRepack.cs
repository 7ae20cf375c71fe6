using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The <see cref="Tensors.GgmlType.Q6_Kx8"/> layout of <see cref="RepackedQ6KKernels"/>: rows in groups of eight and, for
/// each 256-value super-block of a group, 1,680 bytes, as many as its eight stored blocks:
/// <list type="bullet">
/// <item>the eight rows' fp16 d (16 bytes);</item>
/// <item>the sixteen int8 sub-block scales transposed by pairs (128 bytes): scale s of row r at 16·(s/2) + 2r + s % 2, so
/// one sign extension gives every 32-bit lane r the scales of sub-blocks s and s + 1 of row r;</item>
/// <item>per 16-value sub-block s, three 32-byte planes (96 bytes): byte i of lane r of plane j holds in its low six bits the
/// code of element 16s + 4j + i of row r and in its top two bits bits 2j, 2j + 1 of the code of element 16s + 12 + i.</item>
/// </list>
/// Stored Q6_K splits each code into a nibble and two high bits in separate arrays, which costs a shift, two masks and
/// an or per 32 codes to join (about seventeen operations per four vectors of codes); here three codes are one mask each
/// and the fourth is gathered from the planes' top bits (eleven operations per four vectors).
/// </summary>
internal static unsafe class Q6KRepack
{
    public const int BlockBytes = ScalarKQuantKernels.Q6_KBytes, ScalesOffset = 16, PlanesOffset = ScalesOffset + 128, PlaneBytes = 32;
    public const int SubBlockBytes = 3 * PlaneBytes;
    private const int Rows = Int8Repack.Rows, SuperBlock = ScalarKQuantKernels.SuperBlock, SubBlocks = SuperBlock / ScalarKQuantKernels.Group;
    private const int StoredScales = 192, StoredD = 208;

    /// <summary>Super-block <paramref name="block"/> of the eight stored rows at <paramref name="source"/> into the group at <paramref name="target"/>.</summary>
    /// <returns>False when a d is infinite or NaN, which the repacked kernels do not convert.</returns>
    public static bool RepackBlock(byte* source, long rowBytes, int block, byte* target)
    {
        bool finite = true;
        target += (long)block * Rows * BlockBytes;
        var codes = stackalloc uint[SuperBlock / 4];
        for (int r = 0; r < Rows; r++)
        {
            byte* stored = source + r * rowBytes + (long)block * BlockBytes;
            ushort d = *(ushort*)(stored + StoredD);
            finite &= !HalfFloat.IsNonFinite(d);
            ((ushort*)target)[r] = d;
            for (int s = 0; s < SubBlocks; s++) target[ScalesOffset + ScaleIndex(s, r)] = stored[StoredScales + s];
            StoredCodes(stored, (byte*)codes);
            for (int s = 0; s < SubBlocks; s++)
            {
                var planes = (uint*)(target + PlanesOffset + s * SubBlockBytes);
                uint fourth = codes[4 * s + 3];
                planes[r] = codes[4 * s] | (fourth & 0x03030303) << 6;
                planes[Rows + r] = codes[4 * s + 1] | (fourth & 0x0c0c0c0c) << 4;
                planes[2 * Rows + r] = codes[4 * s + 2] | (fourth & 0x30303030) << 2;
            }
        }
        return finite;
    }

    /// <summary>Super-block <paramref name="block"/> of row <paramref name="row"/> as stored (210 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(byte* matrix, long rowBytes, long row, int block, byte* dst)
    {
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * BlockBytes;
        var codes = stackalloc uint[SuperBlock / 4];
        for (int s = 0; s < SubBlocks; s++)
        {
            var planes = (uint*)(source + PlanesOffset + s * SubBlockBytes);
            uint p0 = planes[lane], p1 = planes[Rows + lane], p2 = planes[2 * Rows + lane];
            codes[4 * s] = p0 & 0x3f3f3f3f;
            codes[4 * s + 1] = p1 & 0x3f3f3f3f;
            codes[4 * s + 2] = p2 & 0x3f3f3f3f;
            codes[4 * s + 3] = (p0 >> 6 & 0x03030303) | (p1 >> 4 & 0x0c0c0c0c) | (p2 >> 2 & 0x30303030);
            dst[StoredScales + s] = source[ScalesOffset + ScaleIndex(s, lane)];
        }
        StoreCodes((byte*)codes, dst);
        *(ushort*)(dst + StoredD) = ((ushort*)source)[lane];
    }

    private static int ScaleIndex(int subBlock, int row) => 16 * (subBlock / 2) + 2 * row + subBlock % 2;

    /// <summary>The 256 codes of a stored block in element order.</summary>
    private static void StoredCodes(byte* block, byte* codes)
    {
        for (int half = 0; half < 2; half++) KQuantKernels.StoreHalf(KQuantKernels.Q6Codes(block, half), codes, half);
    }

    /// <summary>
    /// 256 codes in element order into a stored block's low nibbles and high bits (dequantize_row_q6_K's layout: ql byte l
    /// of a half holds elements l and l + 64, ql byte 32 + l elements l + 32 and l + 96; qh byte l the high bits of all four).
    /// </summary>
    private static void StoreCodes(byte* codes, byte* block)
    {
        var nibble = Vector256.Create((byte)0x0f);
        for (int half = 0; half < 2; half++)
        {
            var c0 = Vector256.Load(codes + 128 * half);
            var c1 = Vector256.Load(codes + 128 * half + 32);
            var c2 = Vector256.Load(codes + 128 * half + 64);
            var c3 = Vector256.Load(codes + 128 * half + 96);
            ((c0 & nibble) | (Vector256.ShiftLeft(c2.AsUInt16(), 4).AsByte() & ~nibble)).Store(block + 64 * half);
            ((c1 & nibble) | (Vector256.ShiftLeft(c3.AsUInt16(), 4).AsByte() & ~nibble)).Store(block + 64 * half + 32);
            var high = (Vector256.ShiftRightLogical(c0.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x03))
                | (Vector256.ShiftRightLogical(c1.AsUInt16(), 2).AsByte() & Vector256.Create((byte)0x0c))
                | (c2 & Vector256.Create((byte)0x30))
                | (Vector256.ShiftLeft(c3.AsUInt16(), 2).AsByte() & Vector256.Create((byte)0xc0));
            high.Store(block + 128 + 32 * half);
        }
    }
}
