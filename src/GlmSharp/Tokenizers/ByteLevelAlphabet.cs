namespace GlmSharp.Tokenizers;

/// <summary>
/// GPT-2's reversible byte ↔ character mapping used by byte-level BPE vocabularies: printable Latin-1 bytes map to
/// themselves, the other 68 bytes (controls, space, 0x7F–0xA0, 0xAD) map to U+0100 upwards in byte order, so every
/// token is a printable string (a leading space shows as 'Ġ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly short[] CharToByte = BuildCharToByte();

    public static char CharOf(byte b) => ByteToChar[b];

    /// <summary>The byte a mapped character stands for, or -1 when the character is not part of the alphabet.</summary>
    public static int ByteOf(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Maps a byte-level token text back to its bytes; null when a character is outside the alphabet.</summary>
    public static byte[]? TryDecode(string text)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            int b = ByteOf(text[i]);
            if (b < 0) return null;
            bytes[i] = (byte)b;
        }
        return bytes;
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = IsPrintable(b) ? (char)b : (char)next++;
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }
}
