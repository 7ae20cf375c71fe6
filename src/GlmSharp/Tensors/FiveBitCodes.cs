using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// The 32 five-bit codes of a Q5_0 or Q5_1 block: a little-endian uint32 whose bit j is code j's fifth bit, then 16
/// bytes of low nibbles packed as in Q4_0 (byte j holds code j low, code j + 16 high).
/// </summary>
internal static class FiveBitCodes
{
    public const int Bytes = 4 + 16;

    public static void Write(ReadOnlySpan<int> codes, Span<byte> dst)
    {
        uint high = 0;
        for (int j = 0; j < 16; j++)
        {
            int lo = codes[j], hi = codes[16 + j];
            dst[4 + j] = (byte)((lo & 0x0f) | ((hi & 0x0f) << 4));
            high |= (uint)((lo >> 4) & 1) << j;
            high |= (uint)((hi >> 4) & 1) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(dst, high);
    }

    public static void Read(ReadOnlySpan<byte> src, Span<int> codes)
    {
        uint high = BinaryPrimitives.ReadUInt32LittleEndian(src);
        for (int j = 0; j < 16; j++)
        {
            byte q = src[4 + j];
            codes[j] = (q & 0x0f) | (int)((high >> j) & 1) << 4;
            codes[16 + j] = (q >> 4) | (int)((high >> (j + 16)) & 1) << 4;
        }
    }
}
