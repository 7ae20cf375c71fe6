using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// IQ4_XS, IQ3_XXS and IQ3_S rows times Q8_K activations (ggml's vec_dot_type for all three) on 256-bit vectors. Each
/// 32-value sub-block becomes unsigned magnitudes and signs (<see cref="IIqSubBlocks"/>); vpsignb moves the signs onto
/// the activations, vpmaddubsw multiplies (a pair sum is at most 2·127·127, within 16 bits) and vpmaddwd applies the
/// sub-block's integer scale, as llama.cpp's AVX2 kernels do. Decode reads the stored blocks; prefill unpacks a row
/// once into signed codes with a float scale per sub-block, in the grouped layout of <see cref="Int8Kernels"/>, and
/// runs the int8 tile over the Q8_K activations that <see cref="KQuantKernels.QuantizeActivationsGrouped"/> lays out.
/// </summary>
internal static unsafe class IqSubBlockKernels
{
    private const int SuperBlock = 256, SubBlock = 32, SubBlocks = SuperBlock / SubBlock;

    public static bool Handles(GgmlType type) => type is GgmlType.IQ4_XS or GgmlType.IQ3_XXS or GgmlType.IQ3_S;

    /// <summary>One row of <paramref name="superBlocks"/> blocks times one token's Q8_K codes and block scales.</summary>
    public static float Dot(GgmlType type, byte* w, sbyte* a, float* da, int superBlocks) => type switch
    {
        GgmlType.IQ4_XS => Dot<Iq4XsSubBlocks>(w, a, da, superBlocks),
        GgmlType.IQ3_XXS => Dot<Iq3XxsSubBlocks>(w, a, da, superBlocks),
        _ => Dot<Iq3SSubBlocks>(w, a, da, superBlocks),
    };

    // Not AggressiveOptimization: the block structs' tables are static readonly, which only tiered compilation reads as constants.
    private static float Dot<TBlock>(byte* w, sbyte* a, float* da, int superBlocks) where TBlock : struct, IIqSubBlocks
    {
        float* table = HalfFloat.TablePointer;
        Vector256<float> acc = default;
        for (int b = 0; b < superBlocks; b++, w += TBlock.Bytes, a += SuperBlock)
        {
            StreamPrefetch.Ahead(w, TBlock.Bytes);
            // Two accumulators, so that consecutive sub-blocks do not wait on one chain of adds.
            Vector256<int> even = default, odd = default;
            for (int s = 0; s < SubBlocks; s += 2)
            {
                even = ScaledDot<TBlock>(even, w, s, a);
                odd = ScaledDot<TBlock>(odd, w, s + 1, a);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(even + odd), Vector256.Create(TBlock.D(w, table) * da[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot<TBlock>(Vector256<int> acc, byte* block, int s, sbyte* a) where TBlock : struct, IIqSubBlocks
    {
        var (magnitudes, signs) = TBlock.SubBlock(block, s);
        var pairs = Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(Vector256.Load(a + SubBlock * s), signs));
        var scale = Vector256.Create(TBlock.Scale(block, s));
        return AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, pairs, scale) : acc + Avx2.MultiplyAddAdjacent(pairs, scale);
    }

    /// <summary>
    /// A row of <paramref name="superBlocks"/> blocks for the int8 tile: per super-block one group of eight 32-value
    /// blocks of signed codes (or, with <paramref name="flip"/>, codes + 128 for an unsigned dot, the 128 taken back
    /// through the offset), with scale D·scale each, as <see cref="Int8Kernels.Unpack"/> lays out w = scale·u − offset.
    /// </summary>
    public static void UnpackGrouped(GgmlType type, byte* w, int superBlocks, byte* u, float* scales, float* offsets, bool flip)
    {
        switch (type)
        {
            case GgmlType.IQ4_XS: UnpackGrouped<Iq4XsSubBlocks>(w, superBlocks, u, scales, offsets, flip); break;
            case GgmlType.IQ3_XXS: UnpackGrouped<Iq3XxsSubBlocks>(w, superBlocks, u, scales, offsets, flip); break;
            default: UnpackGrouped<Iq3SSubBlocks>(w, superBlocks, u, scales, offsets, flip); break;
        }
    }

    private static void UnpackGrouped<TBlock>(byte* w, int superBlocks, byte* u, float* scales, float* offsets, bool flip) where TBlock : struct, IIqSubBlocks
    {
        float* table = HalfFloat.TablePointer;
        var signFlip = Vector256.Create(flip ? (byte)0x80 : (byte)0);
        Span<Vector256<int>> rows = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int b = 0; b < superBlocks; b++)
        {
            byte* block = w + (long)b * TBlock.Bytes;
            float d = TBlock.D(block, table);
            for (int s = 0; s < SubBlocks; s++)
            {
                var (magnitudes, signs) = TBlock.SubBlock(block, s);
                rows[s] = (Avx2.Sign(magnitudes.AsSByte(), signs).AsByte() ^ signFlip).AsInt32();
                float scale = d * TBlock.Scale(block, s);
                scales[SubBlocks * b + s] = scale;
                offsets[SubBlocks * b + s] = flip ? 128f * scale : 0f;
            }
            Int8Kernels.StoreTransposed(rows, (int*)(u + b * Int8Kernels.GroupBytes));
        }
    }
}
