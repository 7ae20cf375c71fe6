namespace GlmSharp.Tests.Vision;

/// <summary>
/// Writes animated GIFs for the video tests (Skia decodes GIF but cannot encode it): a 256-colour global palette (a
/// 6×6×6 colour cube, then greys), one Graphic Control Extension per frame for its display time, and each frame's
/// indices LZW-coded with a clear code every <see cref="LiteralsPerClear"/> literals, so every code stays 9 bits wide
/// and no string table is needed. The decoded pixels are exactly the palette colours of the given indices.
/// </summary>
internal static class TestGif
{
    private const int LiteralsPerClear = 250;

    public static (byte R, byte G, byte B) Colour(int index) => index < 216
        ? ((byte)(index / 36 * 51), (byte)(index / 6 % 6 * 51), (byte)(index % 6 * 51))
        : ((byte)((index - 216) * 6), (byte)((index - 216) * 6), (byte)((index - 216) * 6));

    /// <summary>Frames of palette indices (width × height each, row-major), each shown <paramref name="delayCentiseconds"/>.</summary>
    public static byte[] Write(int width, int height, IReadOnlyList<byte[]> frames, int delayCentiseconds)
    {
        var gif = new List<byte>();
        gif.AddRange("GIF89a"u8.ToArray());
        Short(gif, width);
        Short(gif, height);
        gif.AddRange([0xF7, 0, 0]); // global table of 2^(7+1) colours, 8 bits per primary
        for (int i = 0; i < 256; i++)
        {
            var (r, g, b) = Colour(i);
            gif.AddRange([r, g, b]);
        }
        gif.AddRange([0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8.ToArray(), 0x03, 0x01, 0x00, 0x00, 0x00]);
        foreach (var frame in frames)
        {
            gif.AddRange([0x21, 0xF9, 0x04, 0x04]); // disposal 1: leave the frame in place
            Short(gif, delayCentiseconds);
            gif.AddRange([0x00, 0x00]);
            gif.Add(0x2C);
            Short(gif, 0);
            Short(gif, 0);
            Short(gif, width);
            Short(gif, height);
            gif.Add(0x00);
            gif.Add(8); // LZW minimum code size
            var data = Lzw(frame);
            for (int at = 0; at < data.Count; at += 255)
            {
                int n = Math.Min(255, data.Count - at);
                gif.Add((byte)n);
                gif.AddRange(data.Skip(at).Take(n));
            }
            gif.Add(0x00);
        }
        gif.Add(0x3B);
        return [.. gif];
    }

    private static List<byte> Lzw(byte[] indices)
    {
        const int clear = 256, end = 257;
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        void Emit(int code)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8)
            {
                bytes.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }
        for (int i = 0; i < indices.Length; i++)
        {
            if (i % LiteralsPerClear == 0) Emit(clear);
            Emit(indices[i]);
        }
        Emit(end);
        if (bits > 0) bytes.Add((byte)buffer);
        return bytes;
    }

    private static void Short(List<byte> bytes, int value) => bytes.AddRange([(byte)value, (byte)(value >> 8)]);
}
