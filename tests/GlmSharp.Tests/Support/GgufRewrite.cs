using GlmSharp.Formats.Gguf;

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

    private static unsafe byte[] CopyOf(GlmSharp.Tensors.TensorView view) => new ReadOnlySpan<byte>(view.Data, checked((int)view.ByteLength)).ToArray();
}
