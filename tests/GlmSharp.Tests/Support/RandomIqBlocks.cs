using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Rows of an IQ type GlmSharp cannot write: random bytes (every bit pattern of the index, sign and scale fields is a
/// valid block) under an fp16 d chosen per block so that the block's root mean square is the one asked for, which
/// keeps a random model's activations as sane as its float original's.
/// </summary>
internal static class RandomIqBlocks
{
    public static void Fill(GgmlType type, Span<byte> row, Random random, float rms)
    {
        int bytes = GgmlTypeInfo.BytesPerBlock(type), values = GgmlTypeInfo.BlockSize(type);
        Assert.True(type is GgmlType.IQ4_XS or GgmlType.IQ3_XXS or GgmlType.IQ3_S, $"{type}: d is not the first field");
        var decoded = new float[values];
        for (int b = 0; b < row.Length / bytes; b++)
        {
            var block = row.Slice(b * bytes, bytes);
            random.NextBytes(block);
            BitConverter.TryWriteBytes(block, Fp16.FromFloat(1f));
            TensorCodec.DequantizeRow(type, block, decoded);
            double unitRms = Math.Sqrt(decoded.Average(v => (double)v * v));
            BitConverter.TryWriteBytes(block, Fp16.FromFloat(unitRms > 0 ? (float)(rms / unitRms) : 0f));
        }
    }
}
