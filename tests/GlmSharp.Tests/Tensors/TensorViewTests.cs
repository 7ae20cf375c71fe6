using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Tensors;

public sealed unsafe class TensorViewTests
{
    [Fact]
    public void Rows_Of_A_Block_Quantized_Matrix_Are_Its_Bytes_From_The_First_Row_On()
    {
        // [6, 64] Q4_0: each row is two 18-byte blocks.
        var bytes = new byte[6 * 36];
        fixed (byte* data = bytes)
        {
            var matrix = new TensorView("w", GgmlType.Q4_0, [6, 64], data, bytes.Length, "test");
            var rows = matrix.Rows(2, 3);
            Assert.Equal([3L, 64L], rows.Shape);
            Assert.Equal(3 * 36, rows.ByteLength);
            Assert.True(rows.Data == data + 2 * 36);
            Assert.Equal("w", rows.Name);
        }
    }

    [Fact]
    public void A_Vector_Range_Off_Its_Blocks_Is_Refused_Naming_The_Tensor()
    {
        var bytes = new byte[2 * 34];
        fixed (byte* data = bytes)
        {
            var vector = new TensorView("blk.0.attn_qkv.bias", GgmlType.Q8_0, [64], data, bytes.Length, "model.gguf");
            Assert.True(vector.Rows(32, 32).Data == data + 34);
            var e = Assert.Throws<ModelFormatException>(() => vector.Rows(16, 16));
            Assert.Contains("model.gguf: tensor 'blk.0.attn_qkv.bias' is Q8_0, stored in blocks of 32", e.Message);
        }
    }
}
