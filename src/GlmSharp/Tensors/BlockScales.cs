namespace GlmSharp.Tensors;

/// <summary>
/// One scale per block of <see cref="BlockRows"/>×<see cref="BlockColumns"/> weights: the real weight at (r, c) is the
/// stored value times <c>Scales[r / BlockRows, c / BlockColumns]</c>. <see cref="Scales"/> (F32 or BF16) is read where
/// it is stored, never copied.
/// </summary>
public sealed unsafe record BlockScales(TensorView Scales, int BlockRows, int BlockColumns)
{
    /// <summary>Scale columns per scale row.</summary>
    public long Columns => Scales.Shape[1];

    public float At(long blockRow, long blockColumn)
    {
        long index = blockRow * Columns + blockColumn;
        return Scales.Type == GgmlType.BF16 ? Bf16.ToFloat(((ushort*)Scales.Data)[index]) : ((float*)Scales.Data)[index];
    }
}
