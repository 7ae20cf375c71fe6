using GlmSharp.Kernels;

namespace GlmSharp.Tests.Support;

/// <summary>Host arrays in and out of a backend's memory, so a test states its inputs and expectations as arrays.</summary>
internal static class DeviceArrays
{
    /// <summary>A copy of <paramref name="values"/> in <paramref name="backend"/>'s memory.</summary>
    public static DeviceSpan<T> On<T>(this T[] values, IComputeBackend backend) where T : unmanaged => backend.Upload<T>(values);

    /// <summary>y = x · Wᵀ for each weight one after another, through the backend's memory.</summary>
    public static float[] MatMul(this IComputeBackend backend, ReadOnlySpan<GlmSharp.Tensors.TensorView> weights, float[] x, int rows)
    {
        long outputs = 0;
        foreach (var weight in weights) outputs += weight.Shape[0];
        var y = backend.Allocate<float>(checked((int)(rows * outputs)));
        backend.MatMul(weights, x.On(backend), y, rows);
        return backend.ToArray(y);
    }
}
