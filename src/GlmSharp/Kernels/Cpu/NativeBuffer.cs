using System.Runtime.InteropServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// 64-byte-aligned native scratch that grows on demand and is otherwise reused, so steady-state decoding
/// allocates nothing. Not thread-safe: each buffer belongs to one thread or to one serialised operation.
/// </summary>
internal unsafe struct NativeBuffer
{
    public byte* Pointer;
    public long Capacity;

    /// <summary>Makes room for at least <paramref name="bytes"/> bytes; the contents are not kept.</summary>
    public void Ensure(long bytes)
    {
        if (bytes <= Capacity) return;
        Free();
        long size = Math.Max(bytes, Capacity * 2);
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        Capacity = size;
    }

    public void Free()
    {
        if (Pointer is not null) NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        Capacity = 0;
    }
}
