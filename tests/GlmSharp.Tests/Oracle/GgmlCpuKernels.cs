using System.Runtime.InteropServices;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// ggml-cpu's own activation quantizers and dot kernels (quantize_row_q8_0/q8_1, ggml_vec_dot_*), called in the
/// libggml-cpu that LLamaSharp loaded: the reference for how llama.cpp multiplies one weight row with one activation row.
/// </summary>
internal static unsafe class GgmlCpuKernels
{
    private static readonly Lazy<nint> Library = new(() => GgmlTypeTraits.LoadLoaded("libggml-cpu.so"));

    /// <summary>
    /// The activation blocks llama.cpp multiplies weights with: quantize_row_q8_1 (fp16 scale, fp16 sum, 32 codes) with
    /// <paramref name="halfSums"/>, else quantize_row_q8_0 (fp16 scale, 32 codes).
    /// </summary>
    public static byte[] QuantizeActivations(float[] x, bool halfSums)
    {
        var quantize = (delegate* unmanaged<float*, void*, long, void>)NativeLibrary.GetExport(Library.Value, halfSums ? "quantize_row_q8_1" : "quantize_row_q8_0");
        var bytes = new byte[x.Length / 32 * (halfSums ? 36 : 34)];
        fixed (float* xp = x)
        fixed (byte* yp = bytes)
            quantize(xp, yp, x.Length);
        return bytes;
    }

    /// <summary>The Q8_K activation blocks llama.cpp multiplies K-quant weights with (quantize_row_q8_K): fp32 d, 256 codes, sixteen 16-bit sums.</summary>
    public static byte[] QuantizeQ8K(float[] x)
    {
        var quantize = (delegate* unmanaged<float*, void*, long, void>)NativeLibrary.GetExport(Library.Value, "quantize_row_q8_K");
        var bytes = new byte[x.Length / 256 * Q8KBlockBytes];
        fixed (float* xp = x)
        fixed (byte* yp = bytes)
            quantize(xp, yp, x.Length);
        return bytes;
    }

    public const int Q8KBlockBytes = 4 + 256 + 2 * 16;

    /// <summary>ggml_vec_dot_&lt;weight&gt;_&lt;activation&gt; of one row each.</summary>
    public static float Dot(string function, int n, byte[] weights, byte[] activations)
    {
        var dot = (delegate* unmanaged<int, float*, nuint, void*, nuint, void*, nuint, int, void>)NativeLibrary.GetExport(Library.Value, function);
        float s;
        fixed (byte* w = weights, a = activations)
            dot(n, &s, 0, w, 0, a, 0, 1);
        return s;
    }
}
