using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>A copy of a GGUF file with some metadata values replaced (or removed, for a null value), or some tensors re-encoded.</summary>
internal static class GgufRewrite
{
    public static string WithMetadata(string source, string destination, IReadOnlyDictionary<string, object?> changes) =>
        Rewrite(source, destination, changes, replace: (_, _) => null);

    /// <summary>A copy without the tensors <paramref name="dropped"/> picks, metadata unchanged.</summary>
    public static string WithTensorsDropped(string source, string destination, Func<string, bool> dropped) =>
        Rewrite(source, destination, new Dictionary<string, object?>(), replace: (_, _) => null, dropped);

    /// <summary>
    /// Every tensor for which <paramref name="replace"/> returns a type and bytes is stored as those, with its shape
    /// unchanged; the others are copied.
    /// </summary>
    public static string WithTensors(string source, string destination, Func<GgufTensorInfo, TensorView, (GgmlType Type, byte[] Data)?> replace) =>
        Rewrite(source, destination, new Dictionary<string, object?>(), replace);

    private static string Rewrite(string source, string destination, IReadOnlyDictionary<string, object?> changes,
        Func<GgufTensorInfo, TensorView, (GgmlType Type, byte[] Data)?> replace, Func<string, bool>? dropped = null)
    {
        using var file = GgufFile.Open(source);
        var writer = new GgufWriter((uint)file.Alignment);
        foreach (var key in file.Metadata.Keys)
            if (key != GgufFile.AlignmentKey && !changes.ContainsKey(key)) writer.SetMetadata(key, file.Metadata[key]);
        foreach (var (key, value) in changes)
            if (value is not null) writer.SetMetadata(key, value);
        foreach (var info in file.Tensors.Where(t => dropped?.Invoke(t.Name) != true))
        {
            var view = file.View(info);
            if (replace(info, view) is var (type, data)) writer.AddTensor(info.Name, type, info.Shape, data);
            else writer.AddTensor(info.Name, view.Type, info.Shape, CopyOf(view));
        }
        writer.WriteTo(destination);
        return destination;
    }

    private static unsafe byte[] CopyOf(TensorView view) => new ReadOnlySpan<byte>(view.Data, checked((int)view.ByteLength)).ToArray();
}
