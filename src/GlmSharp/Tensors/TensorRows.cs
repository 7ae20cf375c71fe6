namespace GlmSharp.Tensors;

/// <summary>Rows of a stored matrix decoded to fp32 on the host (embedding lookups, 1-D weights at load).</summary>
public static unsafe class TensorRows
{
    /// <summary>Row <paramref name="row"/> of a [rows, width] tensor (block-scaled FP8 included) into destination[..width].</summary>
    public static void Decode(TensorView table, long row, Span<float> destination)
    {
        int width = checked((int)table.Shape[1]);
        if (table.Scales is not null)
        {
            Fp8E4M3.DequantizeRow(table, row, destination);
            return;
        }
        long rowBytes = GgmlTypeInfo.RowByteSize(table.Type, width);
        TensorCodec.DequantizeRow(table.Type, table.Data + row * rowBytes, destination[..width]);
    }
}
