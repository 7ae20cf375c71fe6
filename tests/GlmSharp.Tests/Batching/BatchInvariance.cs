using GlmSharp.Tensors;

namespace GlmSharp.Tests.Batching;

/// <summary>
/// How far a sequence's logits may move with the company it keeps in a step. Per-row operations (embedding, norms,
/// RoPE, SwiGLU, cache stores) are batch-invariant. Two are not, so results are not bit-identical: a lone decode row
/// is multiplied by the GEMV kernels and a row among others by the tiled kernels, which sum each dot product in
/// another order; and attention splits a row's positions over the threads by the step's longest row, which changes
/// its merge order. Both are fp32 summation-order differences (measured ≤ 9e-7 relative for F32, Q8_0, Q4_0).
/// F16/BF16 weights meet activations rounded to 16 bits, as in llama.cpp, and an activation one fp32 step from a
/// rounding boundary then lands on the neighbouring half in one run and not the other: one flipped half moves the
/// logits by about 2⁻¹¹ of an activation (measured 6.6e-4), the same effect the F16 oracle bound allows for.
/// </summary>
internal static class BatchInvariance
{
    public static double Bound(GgmlType type) => type is GgmlType.F16 or GgmlType.BF16 ? 2e-3 : 2e-6;
}
