namespace GlmSharp.Kernels;

/// <summary>
/// Memory a backend computes in, allocated by it (<see cref="IComputeBackend.Allocate"/>): host memory for the CPU
/// backend, device memory for an accelerator. Activations, parameters the forward pass reads every step (norm scales,
/// biases) and the KV cache live here, so an accelerator keeps them on the device between operations; the host
/// reaches them only through <see cref="IComputeBackend.Upload{T}"/> and <see cref="IComputeBackend.Download{T}"/>.
/// Memory that is never disposed is freed when it is collected.
/// </summary>
public abstract class DeviceMemory(long bytes) : IDisposable
{
    public long Bytes { get; } = bytes;

    /// <summary>The memory as one span of <typeparamref name="T"/> (whole elements only).</summary>
    public DeviceSpan<T> As<T>() where T : unmanaged => new(this, 0, checked((int)(Bytes / System.Runtime.CompilerServices.Unsafe.SizeOf<T>())));

    /// <summary>Where the host reads the memory, for backends that compute in host memory; null for device memory.</summary>
    internal virtual unsafe byte* HostAddress => null;

    public abstract void Dispose();
}
