using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// A 256-value block of one of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) in the integer form both the
/// decoder and the kernels work from: value = d/8 · scale · v, with v a small signed integer and one odd scale per 16
/// values. The IQ2 types store v = ±grid magnitude; the IQ1 types store v = 8·(grid ± 1/8), their shift of ±1/8
/// (IQ1S_DELTA) times eight, so the whole block stays integer.
/// </summary>
public interface IIqBlock
{
    static abstract int Bytes { get; }

    /// <summary>The largest |v|: codes stored as v + this are unsigned.</summary>
    static abstract int MaxMagnitude { get; }

    /// <summary>True for the IQ1 types, whose v are eighths of the grid value.</summary>
    static abstract bool ValuesInEighths { get; }

    /// <summary>The block's fp16 d as bits: its first two bytes, but for IQ1_M.</summary>
    static virtual ushort ScaleBits(ReadOnlySpan<byte> block) => BinaryPrimitives.ReadUInt16LittleEndian(block);

    /// <summary>The 256 values v and the 16 scales (each 2·s + 1 of its stored field s).</summary>
    static abstract void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales);
}

/// <summary>Decoding of the lattice types through <see cref="IIqBlock"/>.</summary>
public static class IqCodec
{
    public const int BlockSize = 256, Group = 16;

    /// <summary>
    /// ggml's dequantize_row_iq*, bit for bit: the IQ2 types round d·(s + ½)·¼ once, which equals (d/8)·(2s + 1) since
    /// both scale by a power of two, then multiply the magnitude; the IQ1 types round d·(2s + 1) once, then multiply
    /// the exact grid value ± 1/8.
    /// </summary>
    public static void Dequantize<TBlock>(ReadOnlySpan<byte> src, Span<float> dst) where TBlock : IIqBlock
    {
        Span<sbyte> values = stackalloc sbyte[BlockSize];
        Span<short> scales = stackalloc short[BlockSize / Group];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * TBlock.Bytes, TBlock.Bytes);
            var y = dst.Slice(b * BlockSize, BlockSize);
            TBlock.Expand(block, values, scales);
            float d = Fp16.ToFloat(TBlock.ScaleBits(block));
            for (int g = 0; g < BlockSize / Group; g++)
            {
                if (TBlock.ValuesInEighths)
                {
                    float dl = d * scales[g];
                    for (int l = 0; l < Group; l++) y[Group * g + l] = dl * (values[Group * g + l] * 0.125f);
                }
                else
                {
                    float dl = d * 0.125f * scales[g];
                    for (int l = 0; l < Group; l++) y[Group * g + l] = dl * values[Group * g + l];
                }
            }
        }
    }

    /// <summary>The eight values of grid entry <paramref name="entry"/>, negated where bit j of <paramref name="signs"/> is set.</summary>
    internal static void SignedMagnitudes(ulong entry, int signs, Span<sbyte> values)
    {
        for (int j = 0; j < 8; j++)
        {
            int magnitude = (byte)(entry >> (8 * j));
            values[j] = (sbyte)(((signs >> j) & 1) != 0 ? -magnitude : magnitude);
        }
    }

    /// <summary>Eight IQ1 values: 8·grid value + shift, the shift −1 or +1.</summary>
    internal static void ShiftedEighths(ulong entry, int shift, Span<sbyte> values)
    {
        for (int j = 0; j < 8; j++) values[j] = (sbyte)(8 * (sbyte)(entry >> (8 * j)) + shift);
    }
}
