using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// fp32 dot products on 512-bit vectors. Decode streams one weight row at a time, widening it in registers: rows
/// are contiguous, so the hardware prefetcher sees one sequential stream (walking four rows side by side, each a
/// few pages long, measured 40% slower). Prefill widens a few weight rows once and reuses each loaded vector for
/// four tokens (a 4×4 tile of sixteen accumulators).
/// </summary>
internal static unsafe class FloatKernels512
{
    private const int Width = 16;

    /// <summary>y[r] = Σ_k w_r[k]·x[k] for <paramref name="rows"/> consecutive rows <paramref name="rowBytes"/> apart.</summary>
    public static void DotRows<TLoad>(byte* w, long rowBytes, int rows, float* x, int n, float* y) where TLoad : IFloatLoad
    {
        for (int r = 0; r < rows; r++) y[r] = DotOneRow<TLoad>(w + r * rowBytes, x, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotOneRow<TLoad>(byte* w, float* x, int n) where TLoad : IFloatLoad
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k + 4 * Width <= n; k += 4 * Width)
        {
            a0 = Vector512.FusedMultiplyAdd(TLoad.Load512(w, k), Vector512.Load(x + k), a0);
            a1 = Vector512.FusedMultiplyAdd(TLoad.Load512(w, k + Width), Vector512.Load(x + k + Width), a1);
            a2 = Vector512.FusedMultiplyAdd(TLoad.Load512(w, k + 2 * Width), Vector512.Load(x + k + 2 * Width), a2);
            a3 = Vector512.FusedMultiplyAdd(TLoad.Load512(w, k + 3 * Width), Vector512.Load(x + k + 3 * Width), a3);
        }
        for (; k + Width <= n; k += Width)
            a0 = Vector512.FusedMultiplyAdd(TLoad.Load512(w, k), Vector512.Load(x + k), a0);
        return Vector512.Sum((a0 + a1) + (a2 + a3)) + ScalarTail<TLoad>(w, x, k, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarTail<TLoad>(byte* w, float* x, int from, int n) where TLoad : IFloatLoad
    {
        float sum = 0;
        for (int k = from; k < n; k++) sum += TLoad.Scalar(w, k) * x[k];
        return sum;
    }

    /// <summary>Widens n elements of one row to fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Widen<TLoad>(byte* src, float* dst, int n) where TLoad : IFloatLoad
    {
        int k = 0;
        for (; k + Width <= n; k += Width) TLoad.Load512(src, k).Store(dst + k);
        for (; k < n; k++) dst[k] = TLoad.Scalar(src, k);
    }

    /// <summary>y[t·yStride + r] = Σ_k w[r·wStride + k]·x[t·xStride + k] for r &lt; rows ≤ 4 and t &lt; tokens.</summary>
    public static void DotTile(float* w, int wStride, int rows, float* x, int xStride, int tokens, int n, float* y, int yStride)
    {
        int t = 0;
        if (rows == 4)
            for (; t + 4 <= tokens; t += 4) Tile4x4(w, wStride, x + t * xStride, xStride, n, y + t * yStride, yStride);
        for (; t < tokens; t++)
            DotRows<F32Load>((byte*)w, wStride * sizeof(float), rows, x + t * xStride, n, y + t * yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(float* w, int wStride, float* x, int xStride, int n, float* y, int yStride)
    {
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int k = 0;
        for (; k + Width <= n; k += Width)
        {
            var v0 = Vector512.Load(x0 + k);
            var v1 = Vector512.Load(x1 + k);
            var v2 = Vector512.Load(x2 + k);
            var v3 = Vector512.Load(x3 + k);
            var u = Vector512.Load(w0 + k);
            c00 = Vector512.FusedMultiplyAdd(u, v0, c00); c01 = Vector512.FusedMultiplyAdd(u, v1, c01);
            c02 = Vector512.FusedMultiplyAdd(u, v2, c02); c03 = Vector512.FusedMultiplyAdd(u, v3, c03);
            u = Vector512.Load(w1 + k);
            c10 = Vector512.FusedMultiplyAdd(u, v0, c10); c11 = Vector512.FusedMultiplyAdd(u, v1, c11);
            c12 = Vector512.FusedMultiplyAdd(u, v2, c12); c13 = Vector512.FusedMultiplyAdd(u, v3, c13);
            u = Vector512.Load(w2 + k);
            c20 = Vector512.FusedMultiplyAdd(u, v0, c20); c21 = Vector512.FusedMultiplyAdd(u, v1, c21);
            c22 = Vector512.FusedMultiplyAdd(u, v2, c22); c23 = Vector512.FusedMultiplyAdd(u, v3, c23);
            u = Vector512.Load(w3 + k);
            c30 = Vector512.FusedMultiplyAdd(u, v0, c30); c31 = Vector512.FusedMultiplyAdd(u, v1, c31);
            c32 = Vector512.FusedMultiplyAdd(u, v2, c32); c33 = Vector512.FusedMultiplyAdd(u, v3, c33);
        }
        Store(c00, w0, x0, k, n, y); Store(c01, w0, x1, k, n, y + yStride); Store(c02, w0, x2, k, n, y + 2 * yStride); Store(c03, w0, x3, k, n, y + 3 * yStride);
        Store(c10, w1, x0, k, n, y + 1); Store(c11, w1, x1, k, n, y + yStride + 1); Store(c12, w1, x2, k, n, y + 2 * yStride + 1); Store(c13, w1, x3, k, n, y + 3 * yStride + 1);
        Store(c20, w2, x0, k, n, y + 2); Store(c21, w2, x1, k, n, y + yStride + 2); Store(c22, w2, x2, k, n, y + 2 * yStride + 2); Store(c23, w2, x3, k, n, y + 3 * yStride + 2);
        Store(c30, w3, x0, k, n, y + 3); Store(c31, w3, x1, k, n, y + yStride + 3); Store(c32, w3, x2, k, n, y + 2 * yStride + 3); Store(c33, w3, x3, k, n, y + 3 * yStride + 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> sum, float* w, float* x, int from, int n, float* y) =>
        *y = Vector512.Sum(sum) + ScalarTail<F32Load>((byte*)w, x, from, n);
}
