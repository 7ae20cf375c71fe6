using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// The decoding shared by the IQ types whose 256-value blocks open with an fp16 d and hold eight 32-value sub-blocks
/// of small signed integers under one float scale each: value = scale(d, sub-block)·code.
/// </summary>
internal static class IqSubBlockDecoder
{
    public const int BlockSize = 256, SubBlock = 32;

    /// <summary>The float scale of sub-block <c>s</c>, computed from d in ggml's operation order so that it rounds alike.</summary>
    public delegate float SubBlockScale(ReadOnlySpan<byte> block, float d, int s);

    /// <summary>The signed integer code of element <c>e</c> of a block.</summary>
    public delegate int ElementCode(ReadOnlySpan<byte> block, int e);

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, int bytesPerBlock, SubBlockScale scale, ElementCode code)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * bytesPerBlock, bytesPerBlock);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            for (int s = 0; s < BlockSize / SubBlock; s++)
            {
                float subBlockScale = scale(block, d, s);
                for (int j = 0; j < SubBlock; j++) dst[b * BlockSize + SubBlock * s + j] = subBlockScale * code(block, SubBlock * s + j);
            }
        }
    }
}
