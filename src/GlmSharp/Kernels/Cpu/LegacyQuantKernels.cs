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

    /// <summary>
    /// <see cref="Dot"/> for up to four activation rows at once (the few rows a batched decode step routes to one expert,
    /// an MTP verification step): each block pair is unpacked once and meets every row's codes while in registers.
    /// Each row's arithmetic is the one-row kernel's, in the same order, so its result equals its result alone bit for
    /// bit. Rows are <paramref name="codeStride"/> bytes and <paramref name="scaleStride"/> blocks apart; y[t·yStride]
    /// gets row t's dot.
    /// </summary>
    public static void DotRows(GgmlType type, Int8Path path, byte* w, sbyte* q, float* scales, float* sums, int blocks, int rows,
        int codeStride, int scaleStride, float* y, int yStride)
    {
        bool vnni = path == Int8Path.AvxVnni256;
        switch (type)
        {
            case GgmlType.Q4_1 when vnni: DotRows<Q4_1Block, VnniDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.Q4_1: DotRows<Q4_1Block, NibbleDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.Q5_0 when vnni: DotRows<Q5_0Block, VnniDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.Q5_0: DotRows<Q5_0Block, NibbleDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.Q5_1 when vnni: DotRows<Q5_1Block, VnniDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.Q5_1: DotRows<Q5_1Block, NibbleDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            case GgmlType.MXFP4: DotRows<Mxfp4Block, SignedDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
            default: DotRows<Iq4NlBlock, SignedDot>(w, q, scales, sums, blocks, rows, codeStride, scaleStride, y, yStride); break;
        }
    }

    /// <summary>One activation row's accumulators in <see cref="DotRows{TBlock,TDot}"/>: those of <see cref="Dot{TBlock,TDot}"/>.</summary>
    private struct RowSums
    {
        public Vector256<float> Even, Odd;
        public Vector128<float> Offset;
        public float OffsetSum;
    }

    [MethodImpl(KernelRoot.Options)]
    private static void DotRows<TBlock, TDot>(byte* w, sbyte* q, float* scales, float* sums, int blocks, int rows, int codeStride, int scaleStride,
        float* y, int yStride) where TBlock : struct, ILegacyBlock where TDot : struct, IByteDot256
    {
        float* table = TBlock.ScaleTable;
        int bytes = TBlock.Bytes;
        RowSums r0 = default, r1 = default, r2 = default, r3 = default;
        int b = 0;
        for (; b + 4 <= blocks; b += 4)
        {
            byte* block = w + b * bytes;
            StreamPrefetch.Ahead(block, 4 * bytes);
            var d = Vector128.Create(TBlock.Scale(block, table), TBlock.Scale(block + bytes, table),
                TBlock.Scale(block + 2 * bytes, table), TBlock.Scale(block + 3 * bytes, table));
            var offsets = TBlock.OffsetPerScale != 0 || !TBlock.HasOffset ? d
                : Vector128.Create(TBlock.Offset(block, table), TBlock.Offset(block + bytes, table),
                    TBlock.Offset(block + 2 * bytes, table), TBlock.Offset(block + 3 * bytes, table));
            var (low01, high01) = TBlock.Pair(block);
            var (low23, high23) = TBlock.Pair(block + 2 * bytes);
            QuadStep<TBlock, TDot>(ref r0, low01, high01, low23, high23, d, offsets, q, scales, sums, b);
            if (rows > 1) QuadStep<TBlock, TDot>(ref r1, low01, high01, low23, high23, d, offsets, q + codeStride, scales + scaleStride, sums + scaleStride, b);
            if (rows > 2) QuadStep<TBlock, TDot>(ref r2, low01, high01, low23, high23, d, offsets, q + 2 * codeStride, scales + 2 * scaleStride, sums + 2 * scaleStride, b);
            if (rows > 3) QuadStep<TBlock, TDot>(ref r3, low01, high01, low23, high23, d, offsets, q + 3 * codeStride, scales + 3 * scaleStride, sums + 3 * scaleStride, b);
        }
        FinishOffsets<TBlock>(ref r0);
        FinishOffsets<TBlock>(ref r1);
        FinishOffsets<TBlock>(ref r2);
        FinishOffsets<TBlock>(ref r3);
        if (b + 2 <= blocks)
        {
            byte* block = w + b * bytes;
            float d0 = TBlock.Scale(block, table), d1 = TBlock.Scale(block + bytes, table);
            float o0 = TBlock.Offset(block, table), o1 = TBlock.Offset(block + bytes, table);
            var (low, high) = TBlock.Pair(block);
            PairStep<TDot>(ref r0, low, high, d0, d1, o0, o1, q, scales, sums, b);
            if (rows > 1) PairStep<TDot>(ref r1, low, high, d0, d1, o0, o1, q + codeStride, scales + scaleStride, sums + scaleStride, b);
            if (rows > 2) PairStep<TDot>(ref r2, low, high, d0, d1, o0, o1, q + 2 * codeStride, scales + 2 * scaleStride, sums + 2 * scaleStride, b);
            if (rows > 3) PairStep<TDot>(ref r3, low, high, d0, d1, o0, o1, q + 3 * codeStride, scales + 3 * scaleStride, sums + 3 * scaleStride, b);
            b += 2;
        }
        if (b < blocks)
        {
            byte* block = w + b * bytes;
            float d0 = TBlock.Scale(block, table), o0 = TBlock.Offset(block, table);
            var codes = TBlock.Single(block);
            LastStep<TDot>(ref r0, codes, d0, o0, q, scales, sums, b);
            if (rows > 1) LastStep<TDot>(ref r1, codes, d0, o0, q + codeStride, scales + scaleStride, sums + scaleStride, b);
            if (rows > 2) LastStep<TDot>(ref r2, codes, d0, o0, q + 2 * codeStride, scales + 2 * scaleStride, sums + 2 * scaleStride, b);
            if (rows > 3) LastStep<TDot>(ref r3, codes, d0, o0, q + 3 * codeStride, scales + 3 * scaleStride, sums + 3 * scaleStride, b);
        }
        y[0] = Vector256.Sum(r0.Even + r0.Odd) + r0.OffsetSum;
        if (rows > 1) y[yStride] = Vector256.Sum(r1.Even + r1.Odd) + r1.OffsetSum;
        if (rows > 2) y[2 * yStride] = Vector256.Sum(r2.Even + r2.Odd) + r2.OffsetSum;
        if (rows > 3) y[3 * yStride] = Vector256.Sum(r3.Even + r3.Odd) + r3.OffsetSum;
    }

    /// <summary>Four blocks of one row: <paramref name="offsets"/> is d itself where the offset is a multiple of d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadStep<TBlock, TDot>(ref RowSums row, Vector256<byte> low01, Vector256<byte> high01, Vector256<byte> low23,
        Vector256<byte> high23, Vector128<float> d, Vector128<float> offsets, sbyte* q, float* scales, float* sums, int b)
        where TBlock : struct, ILegacyBlock where TDot : struct, IByteDot256
    {
        sbyte* codes = q + b * Block;
        var combined = d * Vector128.Load(scales + b);
        if (TBlock.HasOffset) row.Offset = Vector128.FusedMultiplyAdd(offsets, Vector128.Load(sums + b), row.Offset);
        row.Even = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low01, Vector256.Load(codes)), high01, Vector256.Load(codes + Block))),
            Vector256.Create(Broadcast(combined, 0), Broadcast(combined, 1)), row.Even);
        row.Odd = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low23, Vector256.Load(codes + 2 * Block)), high23, Vector256.Load(codes + 3 * Block))),
            Vector256.Create(Broadcast(combined, 2), Broadcast(combined, 3)), row.Odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishOffsets<TBlock>(ref RowSums row) where TBlock : struct, ILegacyBlock =>
        row.OffsetSum = TBlock.OffsetPerScale != 0 ? TBlock.OffsetPerScale * Vector128.Sum(row.Offset) : Vector128.Sum(row.Offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairStep<TDot>(ref RowSums row, Vector256<byte> low, Vector256<byte> high, float d0, float d1, float o0, float o1,
        sbyte* q, float* scales, float* sums, int b) where TDot : struct, IByteDot256
    {
        sbyte* codes = q + b * Block;
        row.Even = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low, Vector256.Load(codes)), high, Vector256.Load(codes + Block))),
            Vector256.Create(Vector128.Create(d0 * scales[b]), Vector128.Create(d1 * scales[b + 1])), row.Even);
        row.OffsetSum += o0 * sums[b] + o1 * sums[b + 1];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LastStep<TDot>(ref RowSums row, Vector256<byte> codes, float d0, float o0, sbyte* q, float* scales, float* sums, int b)
        where TDot : struct, IByteDot256
    {
        var dot = TDot.Dot4(Vector256<int>.Zero, codes, Vector256.Load(q + b * Block));
        row.Even = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(d0 * scales[b]), row.Even);
        row.OffsetSum += o0 * sums[b];
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
