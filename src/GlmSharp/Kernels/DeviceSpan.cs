using System.Runtime.CompilerServices;

namespace GlmSharp.Kernels;

/// <summary>
/// <see cref="Length"/> elements of <typeparamref name="T"/> in backend memory, from <see cref="ByteOffset"/>: what
/// the backend's operations take in place of spans, so the values need not be on the host. Slicing is checked here,
/// once, so a backend only has to resolve the memory.
/// </summary>
public readonly struct DeviceSpan<T> where T : unmanaged
{
    public DeviceMemory Memory { get; }
    public long ByteOffset { get; }
    public int Length { get; }

    internal DeviceSpan(DeviceMemory memory, long byteOffset, int length)
    {
        if (byteOffset < 0 || length < 0 || byteOffset + (long)length * Unsafe.SizeOf<T>() > memory.Bytes)
            throw new ArgumentOutOfRangeException(nameof(length), $"{length} elements from byte {byteOffset} do not fit {memory.Bytes} bytes of device memory");
        Memory = memory;
        ByteOffset = byteOffset;
        Length = length;
    }

    public bool IsEmpty => Length == 0;

    public DeviceSpan<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(length), $"elements {start}..{(long)start + length} of a span of {Length}");
        return new DeviceSpan<T>(Memory, ByteOffset + (long)start * Unsafe.SizeOf<T>(), length);
    }

    public DeviceSpan<T> Slice(int start) => Slice(start, Length - start);

    /// <summary>The first <paramref name="length"/> elements.</summary>
    public DeviceSpan<T> Take(int length) => Slice(0, length);
}
