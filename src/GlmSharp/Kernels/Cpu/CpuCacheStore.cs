using System.Runtime.InteropServices;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>Writes projected rows into a paged cache stream, each head row rounded to the stream's element type.</summary>
internal static unsafe class CpuCacheStore
{
    public static void Store(PagedStream stream, CacheRows rows, ReadOnlySpan<float> values)
    {
        int rowWidth = stream.Heads * stream.Width, blockPositions = stream.BlockPositions;
        if (values.Length < rows.Count * rowWidth)
            throw new ArgumentException($"StoreRows: {values.Length} values for {rows.Count} rows of {rowWidth}");
        for (int r = 0; r < rows.Count; r++)
        {
            int slot = rows.Slots[r];
            int block = rows.BlockIds[rows.TableStarts[r] + slot / blockPositions];
            long within = (long)(slot % blockPositions) * stream.RowBytes;
            for (int h = 0; h < stream.Heads; h++)
                Encode(stream.ElementType, values.Slice(r * rowWidth + h * stream.Width, stream.Width),
                    new Span<byte>(stream.HeadStart(block, h) + within, stream.RowBytes));
        }
    }

    /// <summary>Rounds as llama.cpp does when it fills a cache of the same type: fp16 to nearest even, Q8_0 as ggml-cpu quantizes.</summary>
    private static void Encode(KvCacheType type, ReadOnlySpan<float> row, Span<byte> destination)
    {
        switch (type)
        {
            case KvCacheType.F32: MemoryMarshal.AsBytes(row).CopyTo(destination); break;
            case KvCacheType.F16: Fp16.Encode(row, destination); break;
            default: Q8_0.QuantizeAsGgmlCpu(row, destination); break;
        }
    }
}
