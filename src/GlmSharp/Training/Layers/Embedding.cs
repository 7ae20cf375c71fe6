namespace GlmSharp.Training.Layers;

/// <summary>Row lookup in the embedding table (no scaling in GLM), and the scatter-add of its gradient.</summary>
public static class Embedding
{
    public static void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<float> table, Span<float> x, int dim)
    {
        for (int r = 0; r < ids.Length; r++) table.Slice(ids[r] * dim, dim).CopyTo(x.Slice(r * dim, dim));
    }

    public static void Backward(ReadOnlySpan<int> ids, ReadOnlySpan<float> dx, Span<float> dTable, int dim)
    {
        for (int r = 0; r < ids.Length; r++)
        {
            var row = dTable.Slice(ids[r] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, dx.Slice(r * dim, dim), row);
        }
    }
}
