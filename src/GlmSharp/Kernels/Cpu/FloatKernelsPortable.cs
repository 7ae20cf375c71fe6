using System.Runtime.CompilerServices;
using System.Numerics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>fp32 dot products with <see cref="Vector{T}"/>, for CPUs without AVX2: one row by one token at a time.</summary>
internal static unsafe class FloatKernelsPortable
{
    public static void DotRows<TLoad>(byte* w, long rowBytes, int rows, float* x, int n, float* y) where TLoad : IFloatLoad
    {
        for (int r = 0; r < rows; r++) y[r] = Dot<TLoad>(w + r * rowBytes, x, n);
    }

    [MethodImpl(KernelRoot.Options)]
    public static void Widen<TLoad>(byte* src, float* dst, int n) where TLoad : IFloatLoad
    {
        int step = 2 * Vector<float>.Count, k = 0;
        for (; k + step <= n; k += step)
        {
            TLoad.LoadPortable(src, k, out var low, out var high);
            low.Store(dst + k);
            high.Store(dst + k + Vector<float>.Count);
        }
        for (; k < n; k++) dst[k] = TLoad.Scalar(src, k);
    }

    public static void DotTile(float* w, int wStride, int rows, float* x, int xStride, int tokens, int n, float* y, int yStride)
    {
        for (int t = 0; t < tokens; t++)
            DotRows<F32Load>((byte*)w, wStride * sizeof(float), rows, x + t * xStride, n, y + t * yStride);
    }

    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TLoad>(byte* w, float* x, int n) where TLoad : IFloatLoad
    {
        int step = 2 * Vector<float>.Count, k = 0;
        Vector<float> a0 = default, a1 = default;
        for (; k + step <= n; k += step)
        {
            TLoad.LoadPortable(w, k, out var low, out var high);
            a0 = Vector.FusedMultiplyAdd(low, Vector.Load(x + k), a0);
            a1 = Vector.FusedMultiplyAdd(high, Vector.Load(x + k + Vector<float>.Count), a1);
        }
        float sum = Vector.Sum(a0 + a1);
        for (; k < n; k++) sum += TLoad.Scalar(w, k) * x[k];
        return sum;
    }
}
