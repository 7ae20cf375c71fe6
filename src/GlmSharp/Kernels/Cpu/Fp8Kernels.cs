using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Block-scaled FP8 E4M3 weights (Hugging Face FP8 checkpoints) times fp32 activations, reading one byte per weight
/// from the mapping. E4M3 widens to fp32 in registers: the seven magnitude bits moved to the top of a float's
/// exponent and mantissa give the value times 2⁻¹²⁰, so one multiply by 2¹²⁰ rescales normals and subnormals
/// exactly, and the sign bit is moved across. (The NaN codes, which no FP8 quantizer writes, read as ±480 here.)
/// Each run of weights under one scale is summed first and scaled once.
/// Prefill widens four rows with their scales into scratch and reuses them for every token.
/// </summary>
internal static unsafe class Fp8Kernels
{
    /// <summary>The block scales of one matrix, in a form the worker jobs (unmanaged structs) can carry.</summary>
    public struct Scales
    {
        public byte* Data;
        public bool Bf16;
        public int BlockRows, BlockColumns;
        public long Columns;

        public static Scales Of(TensorView weight)
        {
            if (weight.Scales is not { } s)
                throw new ModelFormatException($"{weight.Origin}: tensor '{weight.Name}' is F8_E4M3 without block scales");
            return new Scales
            {
                Data = s.Scales.Data, Bf16 = s.Scales.Type == GgmlType.BF16,
                BlockRows = s.BlockRows, BlockColumns = s.BlockColumns, Columns = s.Columns,
            };
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float At(int row, int column)
        {
            long index = row / BlockRows * Columns + column / BlockColumns;
            return Bf16 ? Bf16ToFloat(((ushort*)Data)[index]) : ((float*)Data)[index];
        }

        private static float Bf16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);
    }

    private static readonly float Rescale = MathF.ScaleB(1f, 120);

    /// <summary>y[t·outputs + o] for weight rows [first, end) and every token.</summary>
    public static void Rows(CpuIsa isa, byte* weights, in Scales scales, int inputs, int outputs, int first, int end,
        float* x, int tokens, float* y, NativeBuffer* scratch)
    {
        if (isa < CpuIsa.Avx2)
        {
            for (int o = first; o < end; o++)
                for (int t = 0; t < tokens; t++)
                    y[(long)t * outputs + o] = DotReference(weights + (long)o * inputs, scales, o, x + (long)t * inputs, inputs);
        }
        else if (tokens == 1)
        {
            for (int o = first; o < end; o++) y[o] = DotRow(weights + (long)o * inputs, scales, o, x, inputs);
        }
        else
        {
            float* w = (float*)scratch->Pointer;
            for (int o = first; o < end; o += 4)
            {
                int rows = Math.Min(4, end - o);
                for (int r = 0; r < rows; r++) Widen(weights + (long)(o + r) * inputs, scales, o + r, w + r * inputs, inputs);
                if (isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotTile(w, inputs, rows, x, inputs, tokens, inputs, y + o, outputs);
                else FloatKernels<Lanes256>.DotTile(w, inputs, rows, x, inputs, tokens, inputs, y + o, outputs);
            }
        }
    }

    /// <summary>The definition the vector paths are tested against: per scale block, Σ E4M3(w)·x, times the scale.</summary>
    public static float DotReference(byte* w, in Scales scales, int row, float* x, int n)
    {
        float sum = 0;
        for (int start = 0; start < n; start += scales.BlockColumns)
        {
            float block = 0;
            for (int k = start; k < Math.Min(n, start + scales.BlockColumns); k++) block += Fp8E4M3.ToFloat(w[k]) * x[k];
            sum += block * scales.At(row, start);
        }
        return sum;
    }

    /// <summary>Eight E4M3 bytes as floats, times 2⁻¹²⁰.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load8(byte* w)
    {
        var codes = Avx2.ConvertToVector256Int32(w);
        var magnitude = Vector256.ShiftLeft(codes & Vector256.Create(0x7F), 20);
        var sign = Vector256.ShiftLeft(codes & Vector256.Create(0x80), 24);
        return (magnitude | sign).AsSingle();
    }

    [MethodImpl(KernelRoot.Options)]
    private static float DotRow(byte* w, in Scales scales, int row, float* x, int n)
    {
        float sum = 0;
        var rescale = Vector256.Create(Rescale);
        for (int start = 0; start < n; start += scales.BlockColumns)
        {
            int end = Math.Min(n, start + scales.BlockColumns);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = start;
            for (; k + 32 <= end; k += 32)
            {
                StreamPrefetch.Ahead(w + k, 32);
                a0 = Vector256.FusedMultiplyAdd(Load8(w + k) * rescale, Vector256.Load(x + k), a0);
                a1 = Vector256.FusedMultiplyAdd(Load8(w + k + 8) * rescale, Vector256.Load(x + k + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(Load8(w + k + 16) * rescale, Vector256.Load(x + k + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(Load8(w + k + 24) * rescale, Vector256.Load(x + k + 24), a3);
            }
            for (; k + 8 <= end; k += 8) a0 = Vector256.FusedMultiplyAdd(Load8(w + k) * rescale, Vector256.Load(x + k), a0);
            float block = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; k < end; k++) block += Fp8E4M3.ToFloat(w[k]) * x[k];
            sum += block * scales.At(row, start);
        }
        return sum;
    }

    /// <summary>One row as real fp32 weights (value × its block's scale) into <paramref name="dst"/>.</summary>
    private static void Widen(byte* w, in Scales scales, int row, float* dst, int n)
    {
        for (int start = 0; start < n; start += scales.BlockColumns)
        {
            int end = Math.Min(n, start + scales.BlockColumns);
            float scale = scales.At(row, start);
            // 2¹²⁰·scale is exact (a power of two times a normal float), so one multiply gives value·scale rounded once.
            var factor = Vector256.Create(Rescale * scale);
            int k = start;
            for (; k + 8 <= end; k += 8) (Load8(w + k) * factor).Store(dst + k);
            for (; k < end; k++) dst[k] = Fp8E4M3.ToFloat(w[k]) * scale;
        }
    }
}
