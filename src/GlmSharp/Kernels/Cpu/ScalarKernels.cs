using System.Runtime.CompilerServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Plain-loop kernels: the definition every SIMD path is tested against, and the path of last resort.
/// Quantized weights are multiplied with activations quantized to 8-bit blocks, as llama.cpp does
/// (ggml's vec_dot_type of Q8_0 and Q4_0 is Q8_0), so both engines round the same way.
/// </summary>
internal static unsafe class ScalarKernels
{
    public const int QuantBlock = 32;

    /// <summary>Σ w[k]·x[k] for a row of F32, F16 or BF16 weights.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotFloatRow(GgmlType type, byte* w, float* x, int n)
    {
        float sum = 0;
        switch (type)
        {
            case GgmlType.F32:
                for (int k = 0; k < n; k++) sum += ((float*)w)[k] * x[k];
                break;
            case GgmlType.F16:
                for (int k = 0; k < n; k++) sum += HalfFloat.ToSingle(((ushort*)w)[k]) * (float)(Half)x[k];
                break;
            case GgmlType.BF16:
                for (int k = 0; k < n; k++) sum += Bf16.ToFloat(((ushort*)w)[k]) * Bf16.ToFloat(Bf16.FromFloat(x[k]));
                break;
            default:
                throw new ArgumentException($"{type} is not a float type", nameof(type));
        }
        return sum;
    }

    /// <summary>
    /// Quantizes n values (a multiple of 32) to blocks of 32 signed bytes: d = amax/127 rounded to fp16 (ggml stores
    /// it so), q = round-half-even(x·127/amax), as ggml's quantize_row_q8_0 does on x86.
    /// <paramref name="sums"/>[b] = d·Σq, the term that offset-coded weights need; with <paramref name="halfSums"/> the
    /// unrounded d·Σq rounded to fp16, as quantize_row_q8_1 stores it for the types with a minimum (Q4_1, Q5_1).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void QuantizeActivations(float* x, int n, sbyte* q, float* scales, float* sums, bool halfSums = false)
    {
        for (int b = 0; b < n / QuantBlock; b++)
        {
            float* block = x + b * QuantBlock;
            float amax = 0;
            for (int j = 0; j < QuantBlock; j++) amax = MathF.Max(amax, MathF.Abs(block[j]));
            float d = amax / 127f;
            float inverse = amax != 0 ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < QuantBlock; j++)
            {
                int code = (int)MathF.Round(block[j] * inverse, MidpointRounding.ToEven);
                q[b * QuantBlock + j] = (sbyte)code;
                sum += code;
            }
            scales[b] = RoundToHalf(d);
            sums[b] = halfSums ? RoundToHalf(d * sum) : scales[b] * sum;
        }
    }

    public static float RoundToHalf(float value) => (float)(Half)value;

    /// <summary>Σ_b d_w·d_a·Σ_j w_j·a_j over the blocks of one Q8_0 or Q4_0 row and one quantized activation row.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQuantizedRow(GgmlType type, byte* w, sbyte* q, float* scales, int blocks)
    {
        float sum = 0;
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        for (int b = 0; b < blocks; b++)
        {
            byte* block = w + b * blockBytes;
            float dw = HalfFloat.ToSingle(*(ushort*)block);
            sbyte* a = q + b * QuantBlock;
            int dot = 0;
            if (type == GgmlType.Q8_0)
                for (int j = 0; j < QuantBlock; j++) dot += (sbyte)block[2 + j] * a[j];
            else if (type == GgmlType.Q4_0)
                for (int j = 0; j < QuantBlock / 2; j++)
                    dot += ((block[2 + j] & 0x0f) - 8) * a[j] + ((block[2 + j] >> 4) - 8) * a[j + QuantBlock / 2];
            else
                throw new ArgumentException($"{type} is not an 8-bit-dot type", nameof(type));
            sum += dw * scales[b] * dot;
        }
        return sum;
    }
}
