using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GlmSharp.Formats;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>F32 tensors held in pinned managed arrays, served under their Hugging Face names.</summary>
public sealed unsafe class InMemoryTensorSource : ITensorSource
{
    private readonly Dictionary<string, TensorView> _views = new();
    private readonly List<float[]> _pinned = [];

    public InMemoryTensorSource(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        foreach (var (name, (shape, values)) in tensors)
        {
            var pinned = GC.AllocateArray<float>(values.Length, pinned: true);
            values.CopyTo(pinned, 0);
            _pinned.Add(pinned);
            var data = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
            _views[name] = new TensorView(name, GgmlType.F32, shape, data, pinned.Length * sizeof(float), Origin);
        }
    }

    public string Origin => "in-memory test tensors";

    public IReadOnlyCollection<string> Names => _views.Keys;

    public bool TryGet(string name, out TensorView tensor) => _views.TryGetValue(name, out tensor!);

    public void Dispose() => _pinned.Clear();
}
