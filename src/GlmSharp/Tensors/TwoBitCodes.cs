namespace GlmSharp.Tensors;

/// <summary>
/// The 2-bit field shared by Q2_K and Q3_K: each 128-value half of a block packs four 32-value quarters into 32 bytes,
/// quarter k in bits 2k…2k+1, so element e sits in byte 32·(e / 128) + e % 32 at shift 2·(e % 128 / 32).
/// </summary>
internal static class TwoBitCodes
{
    /// <summary>Packs 256 codes (each 0–3) into 64 bytes.</summary>
    public static void Pack(ReadOnlySpan<byte> codes, Span<byte> packed)
    {
        for (int half = 0; half < 2; half++)
        {
            var c = codes.Slice(128 * half, 128);
            for (int l = 0; l < 32; l++)
                packed[32 * half + l] = (byte)(c[l] | (c[l + 32] << 2) | (c[l + 64] << 4) | (c[l + 96] << 6));
        }
    }

    /// <summary>The code of element e (0–255) from the 64 packed bytes.</summary>
    public static int Get(ReadOnlySpan<byte> packed, int e) => (packed[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3;
}
