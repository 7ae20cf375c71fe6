using System.Runtime.InteropServices;

namespace GlmSharp.Kernels;

/// <summary>
/// A 64-byte-aligned native block: whole cache lines, and aligned for any SIMD load. A SafeHandle, so a cache whose
/// owner forgot Dispose is still freed by its finalizer.
/// </summary>
internal sealed unsafe class AlignedNativeMemory : SafeHandle
{
    public long Length { get; }

    public AlignedNativeMemory(long bytes) : base(IntPtr.Zero, ownsHandle: true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Length = bytes;
        SetHandle((IntPtr)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64));
    }

    public byte* Pointer => (byte*)handle;

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
