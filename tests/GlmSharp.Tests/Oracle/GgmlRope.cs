using System.Runtime.InteropServices;
using GlmSharp.Tensors;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// ggml's own RoPE operator (ggml_rope_ext / ggml_rope_multi, computed by its CPU backend), called in the libggml that
/// LLamaSharp loaded: the reference for each RoPE variant apart from the rest of llama.cpp's graph.
/// </summary>
internal static unsafe class GgmlRope
{
    public const int Normal = 0, Neox = 2, MultiSection = 8;

    // ggml.h's struct ggml_init_params, as laid out by the C compiler on x86-64.
    [StructLayout(LayoutKind.Sequential)]
    private struct InitParams
    {
        public nuint MemSize;
        public void* MemBuffer;
        [MarshalAs(UnmanagedType.U1)] public bool NoAlloc;
    }

    private static readonly Lazy<(nint Base, nint Cpu)> Libraries = new(Load);

    private static (nint, nint) Load()
    {
        NativeApi.llama_empty_call();
        // libllama pulls in ggml from whichever CPU variant LLamaSharp picked; bind to those same files.
        string basePath = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(p => Path.GetFileName(p) == "libggml-base.so");
        return (NativeLibrary.Load(basePath), NativeLibrary.Load(Path.Combine(Path.GetDirectoryName(basePath)!, "libggml-cpu.so")));
    }

    private static nint Base(string name) => NativeLibrary.GetExport(Libraries.Value.Base, name);

    /// <summary>
    /// Rotates x[tokens, heads, headDim] by ggml's RoPE. positions holds one int per token, or for
    /// <see cref="MultiSection"/> four: component-major [4, tokens] as llama.cpp's graph takes them.
    /// </summary>
    public static float[] Rotate(float[] x, int tokens, int heads, int headDim, int[] positions, int rotaryDims, int mode,
        float theta, int[]? sections = null, float freqScale = 1, float extFactor = 0, int originalContext = 0,
        float betaFast = 32, float betaSlow = 1)
    {
        var init = (delegate* unmanaged<InitParams, void*>)Base("ggml_init");
        var free = (delegate* unmanaged<void*, void>)Base("ggml_free");
        var newTensor1d = (delegate* unmanaged<void*, int, long, void*>)Base("ggml_new_tensor_1d");
        var newTensor3d = (delegate* unmanaged<void*, int, long, long, long, void*>)Base("ggml_new_tensor_3d");
        var getData = (delegate* unmanaged<void*, void*>)Base("ggml_get_data");
        var newGraph = (delegate* unmanaged<void*, void*>)Base("ggml_new_graph");
        var expand = (delegate* unmanaged<void*, void*, void>)Base("ggml_build_forward_expand");
        var compute = (delegate* unmanaged<void*, void*, int, int>)NativeLibrary.GetExport(Libraries.Value.Cpu, "ggml_graph_compute_with_ctx");

        void* ctx = init(new InitParams { MemSize = 64 << 20 });
        try
        {
            void* a = newTensor3d(ctx, (int)GgmlType.F32, headDim, heads, tokens);
            x.AsSpan().CopyTo(new Span<float>(getData(a), x.Length));
            void* b = newTensor1d(ctx, (int)GgmlType.I32, positions.Length);
            positions.AsSpan().CopyTo(new Span<int>(getData(b), positions.Length));
            void* rotated;
            if (sections is null)
            {
                var ropeExt = (delegate* unmanaged<void*, void*, void*, void*, int, int, int, float, float, float, float, float, float, void*>)Base("ggml_rope_ext");
                rotated = ropeExt(ctx, a, b, null, rotaryDims, mode, originalContext, theta, freqScale, extFactor, 1f, betaFast, betaSlow);
            }
            else
            {
                var ropeMulti = (delegate* unmanaged<void*, void*, void*, void*, int, int*, int, int, float, float, float, float, float, float, void*>)Base("ggml_rope_multi");
                fixed (int* s = sections)
                    rotated = ropeMulti(ctx, a, b, null, rotaryDims, s, mode, originalContext, theta, freqScale, extFactor, 1f, betaFast, betaSlow);
            }
            void* graph = newGraph(ctx);
            expand(graph, rotated);
            int status = compute(ctx, graph, 1);
            if (status != 0) throw new InvalidOperationException($"ggml graph compute failed with status {status}");
            return new Span<float>(getData(rotated), x.Length).ToArray();
        }
        finally
        {
            free(ctx);
        }
    }
}
