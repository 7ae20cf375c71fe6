using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q4_1, Q5_0, Q5_1, IQ4_NL and MXFP4 weights against activations quantized to 8-bit blocks, as llama.cpp multiplies
/// them (vec_dot_type Q8_1 for the types with a minimum, whose block sums it keeps as fp16, Q8_0 for the others). Decode
/// reads two blocks per step against <see cref="ActivationLayout.NibblePairs"/> activations, as Q4_0's kernel does;
/// prefill unpacks rows into the interleaved layout of <see cref="Int8Kernels"/> and runs its tiles. Codes stay
/// unsigned where they are (up to 31: a vpmaddubsw pair sum is at most 2·31·127, well within 16 bits) with the
/// offset taken back through the activation sums; IQ4_NL's and MXFP4's signed grid values take the sign trick of Q8_0.
/// </summary>
internal static unsafe class LegacyQuantKernels
{
    private const int Block = Int8Kernels.Block;

    public static bool Handles(GgmlType type) => type is GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.IQ4_NL or GgmlType.MXFP4;

    /// <summary>Types whose activation block sums llama.cpp stores as fp16 (block_q8_1's s), so the sums are rounded alike.</summary>
    public static bool UsesHalfSums(GgmlType type) => type is GgmlType.Q4_1 or GgmlType.Q5_1;

    /// <summary>y = Σ_b d·d_a·Σc·a + offset·sum_b over one stored row and one activation row in <see cref="ActivationLayout.NibblePairs"/>.</summary>
    public static float Dot(GgmlType type, Int8Path path, byte* w, sbyte* q, float* scales, float* sums, int blocks)
    {
        bool vnni = path == Int8Path.AvxVnni256;
        return type switch
        {
            GgmlType.Q4_1 when vnni => Dot<Q4_1Block, VnniDot>(w, q, scales, sums, blocks),
            GgmlType.Q4_1 => Dot<Q4_1Block, NibbleDot>(w, q, scales, sums, blocks),
            GgmlType.Q5_0 when vnni => Dot<Q5_0Block, VnniDot>(w, q, scales, sums, blocks),
            GgmlType.Q5_0 => Dot<Q5_0Block, NibbleDot>(w, q, scales, sums, blocks),
            GgmlType.Q5_1 when vnni => Dot<Q5_1Block, VnniDot>(w, q, scales, sums, blocks),
            GgmlType.Q5_1 => Dot<Q5_1Block, NibbleDot>(w, q, scales, sums, blocks),
            GgmlType.MXFP4 => Dot<Mxfp4Block, SignedDot>(w, q, scales, sums, blocks),
            _ => Dot<Iq4NlBlock, SignedDot>(w, q, scales, sums, blocks),
        };
    }

    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TBlock, TDot>(byte* w, sbyte* q, float* scales, float* sums, int blocks)
        where TBlock : struct, ILegacyBlock where TDot : struct, IByteDot256
    {
        float* table = TBlock.ScaleTable;
        int bytes = TBlock.Bytes;
        Vector256<float> acc0 = default, acc1 = default;
        Vector128<float> offset = default;
        byte* end = w + blocks * bytes;
        for (; w + 4 * bytes <= end; w += 4 * bytes, q += 4 * Block, scales += 4, sums += 4)
        {
            StreamPrefetch.Ahead(w, 4 * bytes);
            var d = Vector128.Create(TBlock.Scale(w, table), TBlock.Scale(w + bytes, table),
                TBlock.Scale(w + 2 * bytes, table), TBlock.Scale(w + 3 * bytes, table));
            var combined = d * Vector128.Load(scales);
            if (TBlock.OffsetPerScale != 0)
                offset = Vector128.FusedMultiplyAdd(d, Vector128.Load(sums), offset);
            else if (TBlock.HasOffset)
                offset = Vector128.FusedMultiplyAdd(Vector128.Create(TBlock.Offset(w, table), TBlock.Offset(w + bytes, table),
                    TBlock.Offset(w + 2 * bytes, table), TBlock.Offset(w + 3 * bytes, table)), Vector128.Load(sums), offset);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TBlock, TDot>(w, q)),
                Vector256.Create(Broadcast(combined, 0), Broadcast(combined, 1)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TBlock, TDot>(w + 2 * bytes, q + 2 * Block)),
                Vector256.Create(Broadcast(combined, 2), Broadcast(combined, 3)), acc1);
        }
        float offsetSum = TBlock.OffsetPerScale != 0 ? TBlock.OffsetPerScale * Vector128.Sum(offset) : Vector128.Sum(offset);
        for (; w + 2 * bytes <= end; w += 2 * bytes, q += 2 * Block, scales += 2, sums += 2)
        {
            float d0 = TBlock.Scale(w, table), d1 = TBlock.Scale(w + bytes, table);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TBlock, TDot>(w, q)),
                Vector256.Create(Vector128.Create(d0 * scales[0]), Vector128.Create(d1 * scales[1])), acc0);
            offsetSum += TBlock.Offset(w, table) * sums[0] + TBlock.Offset(w + bytes, table) * sums[1];
        }
        if (w < end)
        {
            var i = TDot.Dot4(Vector256<int>.Zero, TBlock.Single(w), Vector256.Load(q));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i), Vector256.Create(TBlock.Scale(w, table) * scales[0]), acc0);
            offsetSum += TBlock.Offset(w, table) * sums[0];
        }
        return Vector256.Sum(acc0 + acc1) + offsetSum;
    }

    /// <summary>Integer dots of two consecutive blocks: lanes 0–3 hold the first block's partial sums, 4–7 the second's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairDot<TBlock, TDot>(byte* w, sbyte* q) where TBlock : struct, ILegacyBlock where TDot : struct, IByteDot256
    {
        var (low, high) = TBlock.Pair(w);
        return TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low, Vector256.Load(q)), high, Vector256.Load(q + Block));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Broadcast(Vector128<float> v, [System.Diagnostics.CodeAnalysis.ConstantExpected] byte lane) =>
        Vector128.Shuffle(v, Vector128.Create((int)lane));

    /// <summary>
    /// True where the prefill tile gets signed codes: IQ4_NL and MXFP4, except on AVX-VNNI, whose vpdpbusd needs them unsigned
    /// (grid value + 128, the 128 taken back through the offset).
    /// </summary>
    public static bool SignedTile(GgmlType type, Int8Path path) => (type is GgmlType.IQ4_NL or GgmlType.MXFP4) && path != Int8Path.AvxVnni256;

    /// <summary>
    /// One stored row unpacked as <see cref="Int8Kernels.Unpack"/> does: codes u in the interleaved layout, and per block
    /// a scale and an offset with w = scale·u − offset. Room for whole groups is filled; blocks past the row end are zero.
    /// </summary>
    public static void Unpack(GgmlType type, Int8Path path, byte* w, int blocks, byte* u, float* scales, float* offsets)
    {
        switch (type)
        {
            case GgmlType.Q4_1: Unpack<Q4_1Block>(w, blocks, u, scales, offsets, flip: false); break;
            case GgmlType.Q5_0: Unpack<Q5_0Block>(w, blocks, u, scales, offsets, flip: false); break;
            case GgmlType.Q5_1: Unpack<Q5_1Block>(w, blocks, u, scales, offsets, flip: false); break;
            case GgmlType.MXFP4: Unpack<Mxfp4Block>(w, blocks, u, scales, offsets, flip: !SignedTile(type, path)); break;
            default: Unpack<Iq4NlBlock>(w, blocks, u, scales, offsets, flip: !SignedTile(type, path)); break;
        }
    }

    [MethodImpl(KernelRoot.Options)]
    private static void Unpack<TBlock>(byte* w, int blocks, byte* u, float* scales, float* offsets, bool flip) where TBlock : struct, ILegacyBlock
    {
        float* table = TBlock.ScaleTable;
        var signFlip = Vector256.Create(flip ? (byte)0x80 : (byte)0);
        Span<Vector256<int>> rows = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int g = 0; g * Int8Kernels.GroupBlocks < blocks; g++)
        {
            for (int i = 0; i < Int8Kernels.GroupBlocks; i++)
            {
                int b = g * Int8Kernels.GroupBlocks + i;
                if (b >= blocks)
                {
                    rows[i] = default;
                    scales[b] = 0;
                    offsets[b] = 0;
                    continue;
                }
                byte* block = w + (long)b * TBlock.Bytes;
                float d = TBlock.Scale(block, table);
                scales[b] = d;
                offsets[b] = (flip ? 128f * d : 0f) - TBlock.Offset(block, table);
                rows[i] = (TBlock.Single(block) ^ signFlip).AsInt32();
            }
            Int8Kernels.StoreTransposed(rows, (int*)(u + g * Int8Kernels.GroupBytes));
        }
    }

    /// <summary>
    /// <see cref="Int8Kernels.DotTile{TDot}"/> with the dot the type's codes need on <paramref name="path"/>: 4-bit codes
    /// may keep a group's pair sums in 16 bits (<see cref="NibbleDot"/>), 5-bit codes widen every step
    /// (<see cref="WideNibbleDot"/>), IQ4_NL's and MXFP4's signed codes take <see cref="SignedDot"/>.
    /// </summary>
    public static void DotTile(GgmlType type, Int8Path path, byte* u, float* wScales, int rowBytes, int rowBlocks, int rows,
        sbyte* a, float* aScales, int tokens, int groups, float* y, int yStride)
    {
        if (path == Int8Path.AvxVnni256)
            Int8Kernels.DotTile<VnniDot>(u, wScales, rowBytes, rowBlocks, rows, a, aScales, tokens, groups, y, yStride);
        else if (type is GgmlType.IQ4_NL or GgmlType.MXFP4)
            Int8Kernels.DotTile<SignedDot>(u, wScales, rowBytes, rowBlocks, rows, a, aScales, tokens, groups, y, yStride);
        else if (type == GgmlType.Q4_1)
            Int8Kernels.DotTile<NibbleDot>(u, wScales, rowBytes, rowBlocks, rows, a, aScales, tokens, groups, y, yStride);
        else
            Int8Kernels.DotTile<WideNibbleDot>(u, wScales, rowBytes, rowBlocks, rows, a, aScales, tokens, groups, y, yStride);
    }

    /// <summary>
    /// vpmaddubsw then vpmaddwd by ones, as <see cref="NibbleDot"/>, for codes up to 31: a separate type so that
    /// <see cref="Int8Kernels.DotTile{TDot}"/> widens the pair sums every step (eight steps of 2·31·127 would not fit 16 bits).
    /// </summary>
    internal readonly struct WideNibbleDot : IByteDot256
    {
        private static Vector256<short> Ones { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((short)1); }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Ones);
    }
}
