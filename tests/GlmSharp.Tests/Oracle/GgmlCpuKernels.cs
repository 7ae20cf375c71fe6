using System.Runtime.InteropServices;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// ggml-cpu's own activation quantizers and dot kernels (quantize_row_q8_0/q8_1, ggml_vec_dot_*), called in the
/// libggml-cpu that LLamaSharp loaded: the reference for how llama.cpp multiplies one weight row with one activation row.
/// </summary>
internal static unsafe class GgmlCpuKernels
{
    private static readonly Lazy<nint> Library = new(LoadGgmlCpu);

    private static nint LoadGgmlCpu()
    {
        NativeApi.llama_empty_call();
        string path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(p => Path.GetFileName(p) == "libggml-cpu.so");
        return NativeLibrary.Load(path);
    }

    /// <summary>quantize_row_q8_0 or quantize_row_q8_1 (whichever <paramref name="function"/> names) of <paramref name="x"/>.</summary>
    public static byte[] QuantizeRow(string function, float[] x, int blockBytes)
    {
        var quantize = (delegate* unmanaged<float*, void*, long, void>)NativeLibrary.GetExport(Library.Value, function);
        var bytes = new byte[x.Length / 32 * blockBytes];
        fixed (float* xp = x)
        fixed (byte* yp = bytes)
            quantize(xp, yp, x.Length);
        return bytes;
    }

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
