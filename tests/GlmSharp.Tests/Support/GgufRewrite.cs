using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>A copy of a GGUF file with some metadata values replaced (or removed, for a null value); tensors unchanged.</summary>
internal static class GgufRewrite
{
    public static string WithMetadata(string source, string destination, IReadOnlyDictionary<string, object?> changes)
    {
        using var file = GgufFile.Open(source);
        var writer = new GgufWriter((uint)file.Alignment);
        foreach (var key in file.Metadata.Keys)
            if (key != GgufFile.AlignmentKey && !changes.ContainsKey(key)) writer.SetMetadata(key, file.Metadata[key]);
        foreach (var (key, value) in changes)
            if (value is not null) writer.SetMetadata(key, value);
        foreach (var info in file.Tensors)
        {
            var view = file.View(info);
            writer.AddTensor(info.Name, view.Type, info.Shape, CopyOf(view));
        }
        writer.WriteTo(destination);
        return destination;
    }

    /// <summary>
    /// A copy of an F32 GGUF file whose matrices of rows a multiple of <paramref name="type"/>'s block are replaced by
    /// random blocks (<see cref="RandomIqBlocks"/>) of each matrix's root mean square; vectors stay F32.
    /// </summary>
    public static unsafe string WithRandomBlocks(string source, string destination, GgmlType type, int seed)
    {
        using var file = GgufFile.Open(source);
        var writer = new GgufWriter((uint)file.Alignment);
        foreach (var key in file.Metadata.Keys)
            if (key != GgufFile.AlignmentKey) writer.SetMetadata(key, file.Metadata[key]);
        var random = new Random(seed);
        foreach (var info in file.Tensors)
        {
            var view = file.View(info);
            if (info.Shape.Length != 2 || info.Shape[^1] % GgmlTypeInfo.BlockSize(type) != 0)
            {
                writer.AddTensor(info.Name, view.Type, info.Shape, CopyOf(view));
                continue;
            }
            Assert.Equal(GgmlType.F32, view.Type);
            var values = new ReadOnlySpan<float>(view.Data, checked((int)(view.ByteLength / sizeof(float))));
            float rms = (float)Math.Sqrt(values.ToArray().Average(v => (double)v * v));
            var blocks = new byte[GgmlTypeInfo.RowByteSize(type, values.Length)];
            RandomIqBlocks.Fill(type, blocks, random, rms);
            writer.AddTensor(info.Name, type, info.Shape, blocks);
        }
        writer.WriteTo(destination);
        return destination;
    }

    private static unsafe byte[] CopyOf(GlmSharp.Tensors.TensorView view) => new ReadOnlySpan<byte>(view.Data, checked((int)view.ByteLength)).ToArray();
}
