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
        GgmlType.IQ4_XS => DotIq4Xs(w, a, da, superBlocks),
        GgmlType.IQ3_XXS => Dot<Iq3XxsSubBlocks>(w, a, da, superBlocks),
        _ => Dot<Iq3SSubBlocks>(w, a, da, superBlocks),
    };

    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TBlock>(byte* w, sbyte* a, float* da, int superBlocks) where TBlock : struct, IIqSubBlocks
    {
        float* table = HalfFloat.TablePointer;
        byte* tables = TBlock.Tables;
        Vector256<float> acc = default;
        for (int b = 0; b < superBlocks; b++, w += TBlock.Bytes, a += SuperBlock)
        {
            StreamPrefetch.Ahead(w, TBlock.Bytes);
            // Two accumulators, so that consecutive sub-blocks do not wait on one chain of adds.
            Vector256<int> even = default, odd = default;
            for (int s = 0; s < SubBlocks; s += 2)
            {
                even = ScaledDot<TBlock>(even, w, s, a, tables);
                odd = ScaledDot<TBlock>(odd, w, s + 1, a, tables);
            }
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(even + odd), Vector256.Create(TBlock.D(w, table) * da[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>
    /// IQ4_XS with two sub-blocks per step: one 32-byte load gives both sub-blocks' low nibbles (their first sixteen
    /// values) in one vector and their high nibbles in another, so the activations' 128-bit halves are paired to match
    /// (vperm2i128) and the eight scales, unpacked once per block, are picked per pair with vpshufb. Per sub-block that
    /// is about half the instructions of the one-sub-block form, which left the kernel bound by compute.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static float DotIq4Xs(byte* w, sbyte* a, float* da, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        var grid = Vector256.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113).AsByte();
        var pick0 = KQuantKernels.PairScalePattern(0);
        var pick1 = KQuantKernels.PairScalePattern(1);
        var pick2 = KQuantKernels.PairScalePattern(2);
        var pick3 = KQuantKernels.PairScalePattern(3);
        Vector256<float> acc = default;
        for (int b = 0; b < superBlocks; b++, w += Iq4Xs.BytesPerBlock, a += SuperBlock)
        {
            StreamPrefetch.Ahead(w, Iq4Xs.BytesPerBlock);
            var scales = Iq4XsScales(w).AsByte();
            var dot0 = Iq4XsPair(w + Iq4Xs.CodesOffset, a, grid, Avx2.Shuffle(scales, pick0).AsInt16());
            var dot1 = Iq4XsPair(w + Iq4Xs.CodesOffset + 32, a + 64, grid, Avx2.Shuffle(scales, pick1).AsInt16());
            var dot2 = Iq4XsPair(w + Iq4Xs.CodesOffset + 64, a + 128, grid, Avx2.Shuffle(scales, pick2).AsInt16());
            var dot3 = Iq4XsPair(w + Iq4Xs.CodesOffset + 96, a + 192, grid, Avx2.Shuffle(scales, pick3).AsInt16());
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle((dot0 + dot1) + (dot2 + dot3)), Vector256.Create(table[*(ushort*)w] * da[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Sub-blocks 2p and 2p + 1 (32 bytes of indices at <paramref name="codes"/>) against their 64 activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Iq4XsPair(byte* codes, sbyte* a, Vector256<byte> grid, Vector256<short> scales)
    {
        var nibble = Vector256.Create((byte)0x0f);
        var packed = Vector256.Load(codes);
        // Low lane sub-block 2p, high lane 2p + 1: their first sixteen values, then their last sixteen.
        var first = Avx2.Shuffle(grid, packed & nibble).AsSByte();
        var last = Avx2.Shuffle(grid, Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble).AsSByte();
        var a0 = Vector256.Load(a);
        var a1 = Vector256.Load(a + 32);
        var firstPairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(first), Avx2.Sign(Avx2.Permute2x128(a0, a1, 0x20), first));
        var lastPairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(last), Avx2.Sign(Avx2.Permute2x128(a0, a1, 0x31), last));
        return AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(default, firstPairs, scales), lastPairs, scales)
            : Avx2.MultiplyAddAdjacent(firstPairs, scales) + Avx2.MultiplyAddAdjacent(lastPairs, scales);
    }

    /// <summary>
    /// The eight signed scales of an IQ4_XS block as 16-bit lanes, in both 128-bit halves: pdep spreads the four
    /// low-bit bytes to one nibble per byte and the 16-bit word's pairs to bits 4–5 of each byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Iq4XsScales(byte* block)
    {
        uint low = *(uint*)(block + Iq4Xs.ScalesLowOffset), high = *(ushort*)(block + Iq4Xs.ScalesHighOffset);
        ulong packed = IqTables.Deposit(low, 0x0F0F0F0F0F0F0F0Ful) | IqTables.Deposit(high, 0x3030303030303030ul);
        var scales = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(packed).AsByte()) - Vector128.Create((short)32);
        return Vector256.Create(scales, scales);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot<TBlock>(Vector256<int> acc, byte* block, int s, sbyte* a, byte* tables) where TBlock : struct, IIqSubBlocks
    {
        var (magnitudes, signs) = TBlock.SubBlock(block, s, tables);
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

    [MethodImpl(KernelRoot.Options)]
    private static void UnpackGrouped<TBlock>(byte* w, int superBlocks, byte* u, float* scales, float* offsets, bool flip) where TBlock : struct, IIqSubBlocks
    {
        float* table = HalfFloat.TablePointer;
        byte* tables = TBlock.Tables;
        var signFlip = Vector256.Create(flip ? (byte)0x80 : (byte)0);
        Span<Vector256<int>> rows = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int b = 0; b < superBlocks; b++)
        {
            byte* block = w + (long)b * TBlock.Bytes;
            float d = TBlock.D(block, table);
            for (int s = 0; s < SubBlocks; s++)
            {
                var (magnitudes, signs) = TBlock.SubBlock(block, s, tables);
                rows[s] = (Avx2.Sign(magnitudes.AsSByte(), signs).AsByte() ^ signFlip).AsInt32();
                float scale = d * TBlock.Scale(block, s);
                scales[SubBlocks * b + s] = scale;
                offsets[SubBlocks * b + s] = flip ? 128f * scale : 0f;
            }
            Int8Kernels.StoreTransposed(rows, (int*)(u + b * Int8Kernels.GroupBytes));
        }
    }
}
