using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// fp32 dot products on SIMD registers of any width (<see cref="Lanes512"/>, <see cref="Lanes256"/>). Decode streams one weight row at a time, widening it in registers: rows
/// are contiguous, so the hardware prefetcher sees one sequential stream (walking four rows side by side, each a
/// few pages long, measured 40% slower). Prefill widens a few weight rows once and reuses each loaded vector for
/// four tokens (a 4×4 tile of sixteen accumulators).
/// </summary>
internal static unsafe class FloatKernels<TLanes> where TLanes : struct, IFloatLanes<TLanes>
{
    private static int Width => TLanes.Count;

    /// <summary>y[r] = Σ_k w_r[k]·x[k] for <paramref name="rows"/> consecutive rows <paramref name="rowBytes"/> apart.</summary>
    public static void DotRows<TLoad>(byte* w, long rowBytes, int rows, float* x, int n, float* y) where TLoad : IFloatLoad =>
        DotRows<TLoad, F32Load>(w, rowBytes, rows, (byte*)x, n, y);

    /// <summary>
    /// <see cref="DotRows{TLoad}"/> with the activations stored as <typeparamref name="TXLoad"/> elements too: BF16
    /// activations beside BF16 weights halve the bytes a long row's dot reads beside the streamed weights
    /// ([2048 × 6144] BF16 decode: 61–65 → 73–81 GB/s, its 24 KiB of fp32 activations having left L1).
    /// </summary>
    public static void DotRows<TLoad, TXLoad>(byte* w, long rowBytes, int rows, byte* x, int n, float* y)
        where TLoad : IFloatLoad where TXLoad : IFloatLoad
    {
        for (int r = 0; r < rows; r++) y[r] = DotOneRow<TLoad, TXLoad>(w + r * rowBytes, x, n);
    }

    [MethodImpl(KernelRoot.Options)]
    private static float DotOneRow<TLoad, TXLoad>(byte* w, byte* x, int n) where TLoad : IFloatLoad where TXLoad : IFloatLoad
    {
        TLanes a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k + 4 * Width <= n; k += 4 * Width)
        {
            StreamPrefetch.Ahead(w + (long)k * TLoad.ElementBytes, 4 * Width * TLoad.ElementBytes);
            a0 = TLanes.MultiplyAdd(TLanes.Load<TLoad>(w, k), TLanes.Load<TXLoad>(x, k), a0);
            a1 = TLanes.MultiplyAdd(TLanes.Load<TLoad>(w, k + Width), TLanes.Load<TXLoad>(x, k + Width), a1);
            a2 = TLanes.MultiplyAdd(TLanes.Load<TLoad>(w, k + 2 * Width), TLanes.Load<TXLoad>(x, k + 2 * Width), a2);
            a3 = TLanes.MultiplyAdd(TLanes.Load<TLoad>(w, k + 3 * Width), TLanes.Load<TXLoad>(x, k + 3 * Width), a3);
        }
        for (; k + Width <= n; k += Width)
            a0 = TLanes.MultiplyAdd(TLanes.Load<TLoad>(w, k), TLanes.Load<TXLoad>(x, k), a0);
        return TLanes.Sum(TLanes.Add(TLanes.Add(a0, a1), TLanes.Add(a2, a3))) + ScalarTail<TLoad, TXLoad>(w, x, k, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarTail<TLoad, TXLoad>(byte* w, byte* x, int from, int n) where TLoad : IFloatLoad where TXLoad : IFloatLoad
    {
        float sum = 0;
        for (int k = from; k < n; k++) sum += TLoad.Scalar(w, k) * TXLoad.Scalar(x, k);
        return sum;
    }

    /// <summary>Widens n elements of one row to fp32.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static void Widen<TLoad>(byte* src, float* dst, int n) where TLoad : IFloatLoad
    {
        int k = 0;
        for (; k + Width <= n; k += Width) TLanes.Store(TLanes.Load<TLoad>(src, k), dst + k);
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

    [MethodImpl(KernelRoot.Options)]
    private static void Tile4x4(float* w, int wStride, float* x, int xStride, int n, float* y, int yStride)
    {
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        TLanes c00 = default, c01 = default, c02 = default, c03 = default;
        TLanes c10 = default, c11 = default, c12 = default, c13 = default;
        TLanes c20 = default, c21 = default, c22 = default, c23 = default;
        TLanes c30 = default, c31 = default, c32 = default, c33 = default;
        int k = 0;
        for (; k + Width <= n; k += Width)
        {
            var v0 = TLanes.Load(x0 + k);
            var v1 = TLanes.Load(x1 + k);
            var v2 = TLanes.Load(x2 + k);
            var v3 = TLanes.Load(x3 + k);
            var u = TLanes.Load(w0 + k);
            c00 = TLanes.MultiplyAdd(u, v0, c00); c01 = TLanes.MultiplyAdd(u, v1, c01);
            c02 = TLanes.MultiplyAdd(u, v2, c02); c03 = TLanes.MultiplyAdd(u, v3, c03);
            u = TLanes.Load(w1 + k);
            c10 = TLanes.MultiplyAdd(u, v0, c10); c11 = TLanes.MultiplyAdd(u, v1, c11);
            c12 = TLanes.MultiplyAdd(u, v2, c12); c13 = TLanes.MultiplyAdd(u, v3, c13);
            u = TLanes.Load(w2 + k);
            c20 = TLanes.MultiplyAdd(u, v0, c20); c21 = TLanes.MultiplyAdd(u, v1, c21);
            c22 = TLanes.MultiplyAdd(u, v2, c22); c23 = TLanes.MultiplyAdd(u, v3, c23);
            u = TLanes.Load(w3 + k);
            c30 = TLanes.MultiplyAdd(u, v0, c30); c31 = TLanes.MultiplyAdd(u, v1, c31);
            c32 = TLanes.MultiplyAdd(u, v2, c32); c33 = TLanes.MultiplyAdd(u, v3, c33);
        }
        StoreColumn(TLanes.Sum4(c00, c10, c20, c30), w, wStride, x0, k, n, y);
        StoreColumn(TLanes.Sum4(c01, c11, c21, c31), w, wStride, x1, k, n, y + yStride);
        StoreColumn(TLanes.Sum4(c02, c12, c22, c32), w, wStride, x2, k, n, y + 2 * yStride);
        StoreColumn(TLanes.Sum4(c03, c13, c23, c33), w, wStride, x3, k, n, y + 3 * yStride);
    }

    /// <summary>One token's results for the tile's four rows, which sit side by side in y, plus the rows' scalar tails.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector128<float> sums, float* w, int wStride, float* x, int from, int n, float* y)
    {
        if (from < n)
            sums += Vector128.Create(ScalarTail<F32Load, F32Load>((byte*)w, (byte*)x, from, n), ScalarTail<F32Load, F32Load>((byte*)(w + wStride), (byte*)x, from, n),
                ScalarTail<F32Load, F32Load>((byte*)(w + 2 * wStride), (byte*)x, from, n), ScalarTail<F32Load, F32Load>((byte*)(w + 3 * wStride), (byte*)x, from, n));
        sums.Store(y);
    }
}
