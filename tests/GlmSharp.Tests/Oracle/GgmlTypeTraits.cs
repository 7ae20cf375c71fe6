using System.Runtime.InteropServices;
using GlmSharp.Tensors;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// ggml's own row converters (to_float, from_float_ref) and block sizes for a type, called in the libggml-base that
/// LLamaSharp loaded: the byte-level reference for our codecs.
/// </summary>
internal static unsafe class GgmlTypeTraits
{
    // ggml.h's struct ggml_type_traits, as laid out by the C compiler on x86-64.
    [StructLayout(LayoutKind.Sequential)]
    private struct Traits
    {
        public byte* TypeName;
        public long BlockSize;
        public long BlockSizeInterleave;
        public nuint TypeSize;
        public byte IsQuantized;
        public delegate* unmanaged<void*, float*, long, void> ToFloat;
        public delegate* unmanaged<float*, void*, long, void> FromFloatRef;
    }

    private static readonly Lazy<nint> Library = new(() => LoadLoaded("libggml-base.so"));

    /// <summary>
    /// A ggml library from whichever CPU variant LLamaSharp picked (libllama pulls libggml-base and libggml-cpu in):
    /// the file already mapped into this process, so the functions called are the ones llama.cpp runs.
    /// </summary>
    internal static nint LoadLoaded(string fileName)
    {
        NativeApi.llama_empty_call();
        string path = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .First(p => Path.GetFileName(p) == fileName);
        return NativeLibrary.Load(path);
    }

    private static Traits* Get(GgmlType type)
    {
        var get = (delegate* unmanaged<int, Traits*>)NativeLibrary.GetExport(Library.Value, "ggml_get_type_traits");
        return get((int)type);
    }

    public static string Name(GgmlType type) => Marshal.PtrToStringUTF8((nint)Get(type)->TypeName)!;

    public static long BlockSize(GgmlType type) =>
        ((delegate* unmanaged<int, long>)NativeLibrary.GetExport(Library.Value, "ggml_blck_size"))((int)type);

    public static long TypeSize(GgmlType type) =>
        (long)((delegate* unmanaged<int, nuint>)NativeLibrary.GetExport(Library.Value, "ggml_type_size"))((int)type);

    public static byte[] Quantize(GgmlType type, float[] values)
    {
        var bytes = new byte[GgmlTypeInfo.RowByteSize(type, values.Length)];
        fixed (float* x = values)
        fixed (byte* y = bytes)
            Get(type)->FromFloatRef(x, y, values.Length);
        return bytes;
    }

    /// <summary>
    /// ggml_quantize_chunk without an importance matrix, as one row: what llama.cpp's model quantizer calls. For most
    /// types it is from_float_ref; for IQ4_NL it is quantize_iq4_nl, which searches more scales than from_float_ref.
    /// </summary>
    public static byte[] QuantizeAsModelQuantizer(GgmlType type, float[] values)
    {
        var bytes = new byte[GgmlTypeInfo.RowByteSize(type, values.Length)];
        var chunk = (delegate* unmanaged<int, float*, void*, long, long, long, float*, nuint>)NativeLibrary.GetExport(Library.Value, "ggml_quantize_chunk");
        fixed (float* x = values)
        fixed (byte* y = bytes)
            chunk((int)type, x, y, 0, 1, values.Length, null);
        return bytes;
    }

    public static float[] Dequantize(GgmlType type, byte[] bytes, int elements)
    {
        var values = new float[elements];
        fixed (byte* x = bytes)
        fixed (float* y = values)
            Get(type)->ToFloat(x, y, elements);
        return values;
    }
}
