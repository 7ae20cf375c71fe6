namespace GlmSharp.Kernels;

/// <summary>Allocation and host transfers in one call, for loading parameters and for callers outside the forward pass.</summary>
public static class DeviceTransfers
{
    /// <summary>New backend memory for <paramref name="length"/> elements.</summary>
    public static DeviceSpan<T> Allocate<T>(this IComputeBackend backend, int length) where T : unmanaged =>
        backend.Allocate((long)Math.Max(length, 1) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()).As<T>().Take(length);

    /// <summary>New backend memory holding a copy of <paramref name="values"/>.</summary>
    public static DeviceSpan<T> Upload<T>(this IComputeBackend backend, ReadOnlySpan<T> values) where T : unmanaged
    {
        var span = backend.Allocate<T>(values.Length);
        backend.Upload(values, span);
        return span;
    }

    /// <summary>The values, copied to a new host array.</summary>
    public static T[] ToArray<T>(this IComputeBackend backend, DeviceSpan<T> span) where T : unmanaged
    {
        var values = new T[span.Length];
        backend.Download(span, values);
        return values;
    }
}
