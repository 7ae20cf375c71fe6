using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Float prefill on 512-bit registers as an outer product: a panel of 64 weight rows is widened once into
/// k-major order (the 64 rows' k-th values side by side), so one step loads four registers of weights, broadcasts
/// one activation per token, and updates a 64-row × 6-token block of outputs held in 24 accumulators. No horizontal
/// sums are needed — each accumulator lane is one output — and ten loads feed 24 FMAs (the 4×4 dot tile needed
/// eight loads for 16 FMAs and sixteen reductions per tile). Measured on F16 weights, 512 tokens, 2 threads:
/// 12288×2048 from 275 to 428 GOP/s, 2048×6144 from 297 to 387.
/// </summary>
internal static unsafe class FloatPanelGemm
{
    public const int PanelRows = 64;
    private const int Tokens = 6;

    /// <summary>Floats of scratch one panel of <paramref name="n"/> inputs takes.</summary>
    public static long PanelFloats(int n) => (long)PanelRows * n;

    /// <summary>
    /// y[t·yStride + r] = Σ_k panel[k, r]·x[t·xStride + k] for r &lt; rows and t &lt; tokens.
    /// </summary>
    public static void Multiply(float* panel, int rows, int n, float* x, int xStride, int tokens, float* y, int yStride)
    {
        var block = stackalloc float[Tokens * PanelRows];
        for (int t = 0; t < tokens; t += Tokens)
        {
            int count = Math.Min(Tokens, tokens - t);
            bool direct = count == Tokens && rows == PanelRows;
            // A short block: the missing tokens repeat the last one, the full panel lands in a buffer.
            float* target = direct ? y + (long)t * yStride : block;
            int targetStride = direct ? yStride : PanelRows;
            Block6(panel, n, x + (long)t * xStride, count, xStride, target, targetStride);
            if (!direct)
                for (int j = 0; j < count; j++)
                    new ReadOnlySpan<float>(block + j * PanelRows, rows).CopyTo(new Span<float>(y + (long)(t + j) * yStride, rows));
        }
    }

    [MethodImpl(KernelRoot.Options)]
    private static void Block6(float* panel, int n, float* x, int count, int xStride, float* y, int yStride)
    {
        float* x0 = x, x1 = x + (count > 1 ? xStride : 0), x2 = x + (count > 2 ? 2 * xStride : 0);
        float* x3 = x + (count > 3 ? 3 * xStride : 0), x4 = x + (count > 4 ? 4 * xStride : 0), x5 = x + (count > 5 ? 5 * xStride : 0);
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* p = panel;
        for (int k = 0; k < n; k++, p += PanelRows)
        {
            var w0 = Vector512.Load(p);
            var w1 = Vector512.Load(p + 16);
            var w2 = Vector512.Load(p + 32);
            var w3 = Vector512.Load(p + 48);
            var a = Vector512.Create(x0[k]);
            c00 = Vector512.FusedMultiplyAdd(w0, a, c00); c01 = Vector512.FusedMultiplyAdd(w1, a, c01);
            c02 = Vector512.FusedMultiplyAdd(w2, a, c02); c03 = Vector512.FusedMultiplyAdd(w3, a, c03);
            a = Vector512.Create(x1[k]);
            c10 = Vector512.FusedMultiplyAdd(w0, a, c10); c11 = Vector512.FusedMultiplyAdd(w1, a, c11);
            c12 = Vector512.FusedMultiplyAdd(w2, a, c12); c13 = Vector512.FusedMultiplyAdd(w3, a, c13);
            a = Vector512.Create(x2[k]);
            c20 = Vector512.FusedMultiplyAdd(w0, a, c20); c21 = Vector512.FusedMultiplyAdd(w1, a, c21);
            c22 = Vector512.FusedMultiplyAdd(w2, a, c22); c23 = Vector512.FusedMultiplyAdd(w3, a, c23);
            a = Vector512.Create(x3[k]);
            c30 = Vector512.FusedMultiplyAdd(w0, a, c30); c31 = Vector512.FusedMultiplyAdd(w1, a, c31);
            c32 = Vector512.FusedMultiplyAdd(w2, a, c32); c33 = Vector512.FusedMultiplyAdd(w3, a, c33);
            a = Vector512.Create(x4[k]);
            c40 = Vector512.FusedMultiplyAdd(w0, a, c40); c41 = Vector512.FusedMultiplyAdd(w1, a, c41);
            c42 = Vector512.FusedMultiplyAdd(w2, a, c42); c43 = Vector512.FusedMultiplyAdd(w3, a, c43);
            a = Vector512.Create(x5[k]);
            c50 = Vector512.FusedMultiplyAdd(w0, a, c50); c51 = Vector512.FusedMultiplyAdd(w1, a, c51);
            c52 = Vector512.FusedMultiplyAdd(w2, a, c52); c53 = Vector512.FusedMultiplyAdd(w3, a, c53);
        }
        Store(c00, c01, c02, c03, y);
        Store(c10, c11, c12, c13, y + yStride);
        Store(c20, c21, c22, c23, y + 2 * yStride);
        Store(c30, c31, c32, c33, y + 3 * yStride);
        Store(c40, c41, c42, c43, y + 4 * yStride);
        Store(c50, c51, c52, c53, y + 5 * yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* y)
    {
        a.Store(y);
        b.Store(y + 16);
        c.Store(y + 32);
        d.Store(y + 48);
    }
}
