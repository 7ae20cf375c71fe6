using GlmSharp.Tensors;

namespace GlmSharp.Tests.Oracle;

/// <summary>Our codecs against ggml's converters for the same input: the block that differs, named and shown in hex.</summary>
internal static class GgmlCodecParity
{
    /// <summary>Our encoding of <paramref name="x"/> against ggml_quantize_chunk without an importance matrix, block by block.</summary>
    public static void AssertQuantizedBytesEqual(GgmlType type, float[] x, string context)
    {
        var ours = new byte[GgmlTypeInfo.RowByteSize(type, x.Length)];
        TensorCodec.QuantizeRow(type, x, ours);
        var theirs = GgmlTypeTraits.QuantizeAsModelQuantizer(type, x);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        for (int b = 0; b < ours.Length / blockBytes; b++)
            Assert.True(theirs.AsSpan(b * blockBytes, blockBytes).SequenceEqual(ours.AsSpan(b * blockBytes, blockBytes)),
                $"{type} {context} block {b}: ggml {Convert.ToHexString(theirs, b * blockBytes, blockBytes)}, ours {Convert.ToHexString(ours, b * blockBytes, blockBytes)}");
    }

    /// <summary>Our decoding of <paramref name="bytes"/> against ggml's to_float, bit for bit.</summary>
    public static void AssertDecodedEqual(GgmlType type, byte[] bytes)
    {
        var ours = new float[bytes.Length / GgmlTypeInfo.BytesPerBlock(type) * GgmlTypeInfo.BlockSize(type)];
        TensorCodec.DequantizeRow(type, bytes, ours);
        var theirs = GgmlTypeTraits.Dequantize(type, bytes, ours.Length);
        for (int i = 0; i < ours.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(theirs[i]) == BitConverter.SingleToInt32Bits(ours[i]),
                $"{type} element {i}: ggml {theirs[i]}, ours {ours[i]}");
    }
}
