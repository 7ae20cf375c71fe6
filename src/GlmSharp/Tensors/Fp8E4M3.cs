namespace GlmSharp.Tensors;

/// <summary>
/// OCP FP8 E4M3 ("e4m3fn"): sign, 4 exponent bits with bias 7, 3 mantissa bits; exponent field 0 holds the
/// subnormals m·2⁻⁹; no infinities, and only S.1111.111 is NaN, so the largest value is 1.75·2⁸ = 448.
/// Hugging Face FP8 checkpoints store weights this way with one scale per block of weights (see <see cref="BlockScales"/>).
/// </summary>
public static class Fp8E4M3
{
    private static readonly float[] Values = BuildTable();

    private static float[] BuildTable()
    {
        var table = new float[256];
        for (int code = 0; code < 256; code++)
        {
            int exponent = (code >> 3) & 0xF, mantissa = code & 7;
            float magnitude = exponent == 0 && mantissa == 0 ? 0f
                : (code & 0x7F) == 0x7F ? float.NaN
                : exponent == 0 ? mantissa * MathF.ScaleB(1f, -9)
                : (1 + mantissa / 8f) * MathF.ScaleB(1f, exponent - 7);
            table[code] = (code & 0x80) != 0 ? -magnitude : magnitude;
        }
        return table;
    }

    public static float ToFloat(byte code) => Values[code];

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = Values[src[i]];
    }

    /// <summary>Row <paramref name="row"/> of a block-scaled FP8 matrix as real weights: stored value × block scale.</summary>
    public static unsafe void DequantizeRow(TensorView matrix, long row, Span<float> dst)
    {
        if (matrix.Type != GgmlType.F8_E4M3 || matrix.Scales is not { } scales)
            throw new ArgumentException($"Tensor '{matrix.Name}' is not a block-scaled F8_E4M3 matrix.", nameof(matrix));
        int columns = checked((int)matrix.Shape[1]);
        Decode(new ReadOnlySpan<byte>(matrix.Data + row * columns, columns), dst[..columns]);
        for (int start = 0; start < columns; start += scales.BlockColumns)
        {
            int n = Math.Min(scales.BlockColumns, columns - start);
            float scale = scales.At(row / scales.BlockRows, start / scales.BlockColumns);
            foreach (ref float v in dst.Slice(start, n)) v *= scale;
        }
    }
}
