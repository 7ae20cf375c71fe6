using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q8_0 block: an fp16 scale d followed by 32 signed bytes, value = d * q.
/// Quantizing follows quantize_row_q8_0_ref: d = amax / 127, q = roundf(x * (1/d)), ties away from zero.
/// </summary>
public static class Q8_0
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + BlockSize;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int blocks = CheckLengths(src.Length, dst.Length);
        for (int b = 0; b < blocks; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);

            float amax = BlockExtremes.MaxMagnitude(x);

            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            for (int j = 0; j < BlockSize; j++)
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>
    /// Quantizes as ggml-cpu's quantize_row_q8_0 does on x86, which is how llama.cpp writes keys and values into a
    /// Q8_0 cache: d = amax / 127 (stored as fp16), q = round-half-even(x · (127 / amax)). The reference
    /// <see cref="Quantize"/> multiplies by 1/d and rounds ties away from zero, so the two can differ by one code.
    /// </summary>
    public static void QuantizeAsGgmlCpu(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int blocks = CheckLengths(src.Length, dst.Length);
        for (int b = 0; b < blocks; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);

            float amax = BlockExtremes.MaxMagnitude(x);

            float inverse = amax != 0f ? 127f / amax : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(amax / 127f));
            for (int j = 0; j < BlockSize; j++)
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * inverse, MidpointRounding.ToEven);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int blocks = CheckLengths(dst.Length, src.Length);
        for (int b = 0; b < blocks; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            for (int j = 0; j < BlockSize; j++) y[j] = d * (sbyte)block[2 + j];
        }
    }

    private static int CheckLengths(int elements, int bytes)
    {
        if (elements % BlockSize != 0)
            throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} elements, got {elements}.");
        int blocks = elements / BlockSize;
        if (bytes != blocks * BytesPerBlock)
            throw new ArgumentException($"Q8_0: {elements} elements take {blocks * BytesPerBlock} bytes, buffer has {bytes}.");
        return blocks;
    }
}
