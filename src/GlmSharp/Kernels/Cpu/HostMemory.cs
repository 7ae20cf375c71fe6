namespace GlmSharp.Kernels.Cpu;

/// <summary>The CPU backend's <see cref="DeviceMemory"/>: 64-byte-aligned native memory whose pages the operating system commits on first write.</summary>
internal sealed unsafe class HostMemory(long bytes) : DeviceMemory(bytes)
{
    private readonly AlignedNativeMemory _native = new(bytes);

    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_native.IsClosed, this);
            return _native.Pointer;
        }
    }

    internal override byte* HostAddress => Pointer;

    public override void Dispose() => _native.Dispose();
}
