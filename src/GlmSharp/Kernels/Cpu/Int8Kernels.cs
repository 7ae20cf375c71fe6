using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// 8-bit dot products of Q8_0 / Q4_0 weights with activations quantized to Q8 blocks, on 256-bit vectors:
/// one vpdpbusd (AVX-VNNI) per 32 bytes or widening pmaddwd, as the <see cref="IByteDot256"/> each kernel is instantiated with.
/// vpdpbusd multiplies unsigned by signed bytes, so weights are offset to unsigned codes — Q8_0 as w + 128,
/// Q4_0 as its raw nibble — and the offset is taken back once per block: Σ(u − c)·a = Σu·a − c·Σa, with Σa
/// stored beside each activation block.
/// <para>
/// Prefill unpacks a few weight rows into an interleaved layout where, for each group of eight blocks, step s
/// holds bytes 4s…4s+3 of every block side by side: eight vpdpbusd steps then leave block b's whole integer dot
/// in lane b, and the block scales of eight blocks apply as one vector multiply. Activations are quantized into
/// the same layout.
/// </para>
/// </summary>
internal static unsafe class Int8Kernels
{
    public const int Block = 32;
    public const int GroupBlocks = 8;
    public const int GroupBytes = Block * GroupBlocks;
    private const int Q8_0Bytes = 34, Q4_0Bytes = 18;

    /// <summary>
    /// <see cref="ScalarKernels.QuantizeActivations"/> on vectors, bit for bit, the codes stored in the given layout;
    /// for <see cref="ActivationLayout.Grouped"/> the caller provides a whole number of zeroed groups of room.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void QuantizeActivations(float* x, int n, sbyte* q, float* scales, float* sums, ActivationLayout layout, bool halfSums = false)
    {
        var natural = stackalloc int[Block / 4];
        for (int b = 0; b < n / Block; b++)
        {
            float* block = x + b * Block;
            var v0 = Vector256.Load(block);
            var v1 = Vector256.Load(block + 8);
            var v2 = Vector256.Load(block + 16);
            var v3 = Vector256.Load(block + 24);
            float amax = MaxAcross(Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3))));
            float inverse = amax != 0 ? 127f / amax : 0f;
            var m = Vector256.Create(inverse);
            var i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * m));
            var i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * m));
            var i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * m));
            var i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * m));
            var codes = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
            float d = ScalarKernels.RoundToHalf(amax / 127f);
            scales[b] = d;
            int sum = Vector256.Sum(i0 + i1 + i2 + i3);
            sums[b] = halfSums ? ScalarKernels.RoundToHalf(amax / 127f * sum) : d * sum;
            if (layout == ActivationLayout.Natural || (layout == ActivationLayout.NibblePairs && b == n / Block - 1 && b % 2 == 0))
            {
                codes.Store(q + b * Block);
                continue;
            }
            if (layout == ActivationLayout.NibblePairs)
            {
                sbyte* pair = q + b / 2 * 2 * Block + b % 2 * (Block / 2);
                codes.GetLower().Store(pair);
                codes.GetUpper().Store(pair + Block);
                continue;
            }
            codes.AsInt32().Store(natural);
            int* group = (int*)(q + b / GroupBlocks * GroupBytes) + b % GroupBlocks;
            for (int s = 0; s < Block / 4; s++) group[s * GroupBlocks] = natural[s];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    /// <summary>
    /// Dot of one stored Q8_0 row with one natural-layout activation row, four blocks per step: their scales are
    /// looked up once and combined with the activation scales as one vector, each block's then broadcast from it.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ8_0<TDot>(byte* w, sbyte* q, float* scales, float* sums, int blocks) where TDot : struct, IByteDot256
    {
        float* table = HalfFloat.TablePointer;
        // SignedDot takes the codes as stored; the others meet them offset to unsigned and subtract 128·Σa afterwards.
        bool signedCodes = typeof(TDot) == typeof(SignedDot);
        var flip = Vector256.Create(signedCodes ? (byte)0 : (byte)0x80);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector128<float> offset = default;
        byte* end = w + blocks * Q8_0Bytes;
        for (; w + 4 * Q8_0Bytes <= end; w += 4 * Q8_0Bytes, q += 4 * Block, scales += 4, sums += 4)
        {
            StreamPrefetch.Ahead(w, 4 * Q8_0Bytes);
            var d = Vector128.Create(table[*(ushort*)w], table[*(ushort*)(w + Q8_0Bytes)],
                table[*(ushort*)(w + 2 * Q8_0Bytes)], table[*(ushort*)(w + 3 * Q8_0Bytes)]);
            var combined = (d * Vector128.Load(scales)).ToVector256Unsafe();
            offset = Vector128.FusedMultiplyAdd(d, Vector128.Load(sums), offset);
            acc0 = Vector256.FusedMultiplyAdd(BlockDot<TDot>(w, q, flip), Vector256.Shuffle(combined, Vector256.Create(0)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(BlockDot<TDot>(w + Q8_0Bytes, q + Block, flip), Vector256.Shuffle(combined, Vector256.Create(1)), acc1);
            acc2 = Vector256.FusedMultiplyAdd(BlockDot<TDot>(w + 2 * Q8_0Bytes, q + 2 * Block, flip), Vector256.Shuffle(combined, Vector256.Create(2)), acc2);
            acc3 = Vector256.FusedMultiplyAdd(BlockDot<TDot>(w + 3 * Q8_0Bytes, q + 3 * Block, flip), Vector256.Shuffle(combined, Vector256.Create(3)), acc3);
        }
        float offsetSum = Vector128.Sum(offset);
        for (; w < end; w += Q8_0Bytes, q += Block, scales++, sums++)
        {
            float d0 = table[*(ushort*)w];
            acc0 = Vector256.FusedMultiplyAdd(BlockDot<TDot>(w, q, flip), Vector256.Create(d0 * scales[0]), acc0);
            offsetSum += d0 * sums[0];
        }
        return signedCodes ? Vector256.Sum((acc0 + acc1) + (acc2 + acc3)) : Vector256.Sum((acc0 + acc1) + (acc2 + acc3)) - 128f * offsetSum;
    }

    /// <summary>The integer dot of one Q8_0 block's codes, offset to unsigned, with 32 activation codes, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockDot<TDot>(byte* w, sbyte* q, Vector256<byte> flip) where TDot : struct, IByteDot256 =>
        Vector256.ConvertToSingle(TDot.Dot4(Vector256<int>.Zero, Vector256.Load(w + 2) ^ flip, Vector256.Load(q)));

    /// <summary>
    /// Dot of one stored Q4_0 row with one activation row in <see cref="ActivationLayout.NibblePairs"/>: two blocks'
    /// packed bytes fill one vector, whose low nibbles meet the first halves of both activation blocks and whose high
    /// nibbles meet the second halves, so no nibble is moved into element order. The scales of four blocks are looked
    /// up once and combined as one vector (measured a third faster than per-block scalar products).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ4_0<TDot>(byte* w, sbyte* q, float* scales, float* sums, int blocks) where TDot : struct, IByteDot256
    {
        float* table = HalfFloat.TablePointer;
        var mask = Vector256.Create((byte)0x0f);
        Vector256<float> acc0 = default, acc1 = default;
        Vector128<float> offset = default;
        byte* end = w + blocks * Q4_0Bytes;
        for (; w + 4 * Q4_0Bytes <= end; w += 4 * Q4_0Bytes, q += 4 * Block, scales += 4, sums += 4)
        {
            StreamPrefetch.Ahead(w, 4 * Q4_0Bytes);
            var d = Vector128.Create(table[*(ushort*)w], table[*(ushort*)(w + Q4_0Bytes)],
                table[*(ushort*)(w + 2 * Q4_0Bytes)], table[*(ushort*)(w + 3 * Q4_0Bytes)]);
            var combined = d * Vector128.Load(scales);
            offset = Vector128.FusedMultiplyAdd(d, Vector128.Load(sums), offset);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TDot>(w, q, mask)),
                Vector256.Create(Broadcast(combined, 0), Broadcast(combined, 1)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TDot>(w + 2 * Q4_0Bytes, q + 2 * Block, mask)),
                Vector256.Create(Broadcast(combined, 2), Broadcast(combined, 3)), acc1);
        }
        float offsetSum = Vector128.Sum(offset);
        for (; w + 2 * Q4_0Bytes <= end; w += 2 * Q4_0Bytes, q += 2 * Block, scales += 2, sums += 2)
        {
            float d0 = table[*(ushort*)w], d1 = table[*(ushort*)(w + Q4_0Bytes)];
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot<TDot>(w, q, mask)),
                Vector256.Create(Vector128.Create(d0 * scales[0]), Vector128.Create(d1 * scales[1])), acc0);
            offsetSum += d0 * sums[0] + d1 * sums[1];
        }
        if (w < end)
        {
            float d0 = table[*(ushort*)w];
            var i0 = TDot.Dot4(Vector256<int>.Zero, Nibbles(w + 2), Vector256.Load(q));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), Vector256.Create(d0 * scales[0]), acc0);
            offsetSum += d0 * sums[0];
        }
        return Vector256.Sum(acc0 + acc1) - 8f * offsetSum;
    }

    /// <summary>
    /// <see cref="DotQ4_0{TDot}"/> for up to four activation rows at once (a small batch of decode rows): each pair of
    /// blocks is split into nibbles once and meets every row's codes while in registers, so the weight row is read and
    /// unpacked once for all of them. Activations are <see cref="ActivationLayout.NibblePairs"/> rows
    /// <paramref name="codeStride"/> bytes and <paramref name="scaleStride"/> blocks apart; y[t · yStride] gets row t's dot.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ4_0Rows<TDot>(byte* w, sbyte* q, float* scales, float* sums, int blocks, int rows, int codeStride, int scaleStride,
        float* y, int yStride) where TDot : struct, IByteDot256
    {
        float* table = HalfFloat.TablePointer;
        var mask = Vector256.Create((byte)0x0f);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float offset0 = 0, offset1 = 0, offset2 = 0, offset3 = 0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2)
        {
            byte* pair = w + b * Q4_0Bytes;
            StreamPrefetch.Ahead(pair, 2 * Q4_0Bytes);
            float d0 = table[*(ushort*)pair], d1 = table[*(ushort*)(pair + Q4_0Bytes)];
            var packed = Vector256.Create(Vector128.Load(pair + 2), Vector128.Load(pair + Q4_0Bytes + 2));
            var low = packed & mask;
            var high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask;
            PairStep<TDot>(low, high, d0, d1, q, scales, sums, b, ref acc0, ref offset0);
            if (rows > 1) PairStep<TDot>(low, high, d0, d1, q + codeStride, scales + scaleStride, sums + scaleStride, b, ref acc1, ref offset1);
            if (rows > 2) PairStep<TDot>(low, high, d0, d1, q + 2 * codeStride, scales + 2 * scaleStride, sums + 2 * scaleStride, b, ref acc2, ref offset2);
            if (rows > 3) PairStep<TDot>(low, high, d0, d1, q + 3 * codeStride, scales + 3 * scaleStride, sums + 3 * scaleStride, b, ref acc3, ref offset3);
        }
        if (b < blocks)
        {
            byte* last = w + b * Q4_0Bytes;
            float d0 = table[*(ushort*)last];
            var codes = Nibbles(last + 2);
            LastStep<TDot>(codes, d0, q, scales, sums, b, ref acc0, ref offset0);
            if (rows > 1) LastStep<TDot>(codes, d0, q + codeStride, scales + scaleStride, sums + scaleStride, b, ref acc1, ref offset1);
            if (rows > 2) LastStep<TDot>(codes, d0, q + 2 * codeStride, scales + 2 * scaleStride, sums + 2 * scaleStride, b, ref acc2, ref offset2);
            if (rows > 3) LastStep<TDot>(codes, d0, q + 3 * codeStride, scales + 3 * scaleStride, sums + 3 * scaleStride, b, ref acc3, ref offset3);
        }
        y[0] = Vector256.Sum(acc0) - 8f * offset0;
        if (rows > 1) y[yStride] = Vector256.Sum(acc1) - 8f * offset1;
        if (rows > 2) y[2 * yStride] = Vector256.Sum(acc2) - 8f * offset2;
        if (rows > 3) y[3 * yStride] = Vector256.Sum(acc3) - 8f * offset3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairStep<TDot>(Vector256<byte> low, Vector256<byte> high, float d0, float d1, sbyte* q, float* scales, float* sums, int b,
        ref Vector256<float> acc, ref float offset) where TDot : struct, IByteDot256
    {
        sbyte* codes = q + b * Block;
        var dot = TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low, Vector256.Load(codes)), high, Vector256.Load(codes + Block));
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot),
            Vector256.Create(Vector128.Create(d0 * scales[b]), Vector128.Create(d1 * scales[b + 1])), acc);
        offset += d0 * sums[b] + d1 * sums[b + 1];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LastStep<TDot>(Vector256<byte> codes, float d0, sbyte* q, float* scales, float* sums, int b,
        ref Vector256<float> acc, ref float offset) where TDot : struct, IByteDot256
    {
        var dot = TDot.Dot4(Vector256<int>.Zero, codes, Vector256.Load(q + b * Block));
        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(d0 * scales[b]), acc);
        offset += d0 * sums[b];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Broadcast(Vector128<float> v, [ConstantExpected] byte lane) =>
        Vector128.Shuffle(v, Vector128.Create((int)lane));

    /// <summary>Integer dots of two consecutive blocks: lanes 0–3 hold the first block's partial sums, 4–7 the second's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairDot<TDot>(byte* w, sbyte* q, Vector256<byte> mask) where TDot : struct, IByteDot256
    {
        var packed = Vector256.Create(Vector128.Load(w + 2), Vector128.Load(w + Q4_0Bytes + 2));
        var low = packed & mask;
        var high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask;
        return TDot.Dot4(TDot.Dot4(Vector256<int>.Zero, low, Vector256.Load(q)), high, Vector256.Load(q + Block));
    }

    /// <summary>The 32 codes of a Q4_0 block in element order: low nibbles are elements 0–15, high nibbles 16–31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Nibbles(byte* packed)
    {
        var bytes = Vector128.Load(packed);
        var mask = Vector128.Create((byte)0x0f);
        return Vector256.Create(bytes & mask, Vector128.ShiftRightLogical(bytes, 4) & mask);
    }

    /// <summary>
    /// Unpacks one stored row into the interleaved layout: unsigned codes u, and per block a scale and an offset
    /// with w = scale·u − offset. Room for whole groups is filled; blocks past the row end are zero.
    /// With <paramref name="signedQ8"/> Q8_0 codes stay signed and the offset is zero (for vpmaddubsw, which
    /// would saturate on offset codes up to 255).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void Unpack(bool q4, bool signedQ8, byte* w, int blocks, byte* u, float* scales, float* offsets)
    {
        float* table = HalfFloat.TablePointer;
        int blockBytes = q4 ? Q4_0Bytes : Q8_0Bytes;
        float offset = q4 ? 8f : signedQ8 ? 0f : 128f;
        var flip = Vector256.Create(signedQ8 ? (byte)0 : (byte)0x80);
        Span<Vector256<int>> rows = stackalloc Vector256<int>[GroupBlocks];
        for (int g = 0; g * GroupBlocks < blocks; g++)
        {
            for (int i = 0; i < GroupBlocks; i++)
            {
                int b = g * GroupBlocks + i;
                if (b >= blocks)
                {
                    rows[i] = default;
                    scales[b] = 0;
                    offsets[b] = 0;
                    continue;
                }
                byte* block = w + (long)b * blockBytes;
                float d = table[*(ushort*)block];
                scales[b] = d;
                offsets[b] = offset * d;
                rows[i] = (q4 ? Nibbles(block + 2) : Vector256.Load(block + 2) ^ flip).AsInt32();
            }
            StoreTransposed(rows, (int*)(u + g * GroupBytes));
        }
    }

    /// <summary>dst[s·8 + b] = rows[b][s]: the 8×8 transpose of 32-bit lanes that builds the interleaved layout.</summary>
    internal static void StoreTransposed(Span<Vector256<int>> r, int* dst)
    {
        if (!Avx2.IsSupported)
        {
            for (int b = 0; b < GroupBlocks; b++)
                for (int s = 0; s < GroupBlocks; s++) dst[s * GroupBlocks + b] = r[b][s];
            return;
        }
        var t0 = Avx2.UnpackLow(r[0], r[1]); var t1 = Avx2.UnpackHigh(r[0], r[1]);
        var t2 = Avx2.UnpackLow(r[2], r[3]); var t3 = Avx2.UnpackHigh(r[2], r[3]);
        var t4 = Avx2.UnpackLow(r[4], r[5]); var t5 = Avx2.UnpackHigh(r[4], r[5]);
        var t6 = Avx2.UnpackLow(r[6], r[7]); var t7 = Avx2.UnpackHigh(r[6], r[7]);
        var s0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32(); var s1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var s2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32(); var s3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var s4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32(); var s5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var s6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32(); var s7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        Avx2.Permute2x128(s0, s4, 0x20).Store(dst);
        Avx2.Permute2x128(s1, s5, 0x20).Store(dst + 8);
        Avx2.Permute2x128(s2, s6, 0x20).Store(dst + 16);
        Avx2.Permute2x128(s3, s7, 0x20).Store(dst + 24);
        Avx2.Permute2x128(s0, s4, 0x31).Store(dst + 32);
        Avx2.Permute2x128(s1, s5, 0x31).Store(dst + 40);
        Avx2.Permute2x128(s2, s6, 0x31).Store(dst + 48);
        Avx2.Permute2x128(s3, s7, 0x31).Store(dst + 56);
    }

    /// <summary>
    /// y[t·yStride + r] = Σ_b ws_rb·as_tb·Σ u·a over interleaved weight rows r &lt; rows ≤ 4 (<paramref name="rowBytes"/>
    /// and <paramref name="rowBlocks"/> apart) and interleaved activation rows t. The offset term −Σ_b wo_rb·asum_tb
    /// is a small float product the caller takes away afterwards, which keeps it out of the integer loop.
    /// </summary>
    public static void DotTile<TDot>(byte* u, float* wScales, int rowBytes, int rowBlocks, int rows,
        sbyte* a, float* aScales, int tokens, int groups, float* y, int yStride) where TDot : struct, IByteDot256
    {
        int t = 0;
        if (rows == 4 && typeof(TDot) == typeof(NibbleDot))
            for (; t + 2 <= tokens; t += 2)
                NibbleTile4x2(u, wScales, rowBytes, rowBlocks, a + t * rowBytes, aScales + t * rowBlocks, groups, y + t * yStride, yStride);
        else if (rows == 4)
            for (; t + 2 <= tokens; t += 2)
                Tile4x2<TDot>(u, wScales, rowBytes, rowBlocks, a + t * rowBytes, aScales + t * rowBlocks, groups, y + t * yStride, yStride);
        for (; t < tokens; t++)
            for (int r = 0; r < rows; r++)
                y[t * yStride + r] = Dot1x1<TDot>(u + r * rowBytes, wScales + r * rowBlocks, a + t * rowBytes, aScales + t * rowBlocks, groups);
    }

    [MethodImpl(KernelRoot.Options)]
    private static float Dot1x1<TDot>(byte* u, float* ws, sbyte* a, float* asc, int groups) where TDot : struct, IByteDot256
    {
        Vector256<float> acc = default;
        for (int g = 0; g < groups; g++)
        {
            var i = Vector256<int>.Zero;
            byte* ug = u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBlocks; s++) i = TDot.Dot4(i, Vector256.Load(ug + s * 32), Vector256.Load(ag + s * 32));
            int o = g * GroupBlocks;
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i), Vector256.Load(ws + o) * Vector256.Load(asc + o), acc);
        }
        return Vector256.Sum(acc);
    }

    [MethodImpl(KernelRoot.Options)]
    private static void Tile4x2<TDot>(byte* u, float* ws, int rowBytes, int rowBlocks, sbyte* a, float* asc, int groups, float* y, int yStride) where TDot : struct, IByteDot256
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default;
            Vector256<int> i20 = default, i21 = default, i30 = default, i31 = default;
            byte* ug = u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBlocks * 32; s += 32)
            {
                var a0 = Vector256.Load(ag + s);
                var a1 = Vector256.Load(ag + rowBytes + s);
                var w = Vector256.Load(ug + s);
                i00 = TDot.Dot4(i00, w, a0); i01 = TDot.Dot4(i01, w, a1);
                w = Vector256.Load(ug + rowBytes + s);
                i10 = TDot.Dot4(i10, w, a0); i11 = TDot.Dot4(i11, w, a1);
                w = Vector256.Load(ug + 2 * rowBytes + s);
                i20 = TDot.Dot4(i20, w, a0); i21 = TDot.Dot4(i21, w, a1);
                w = Vector256.Load(ug + 3 * rowBytes + s);
                i30 = TDot.Dot4(i30, w, a0); i31 = TDot.Dot4(i31, w, a1);
            }
            int o = g * GroupBlocks;
            var as0 = Vector256.Load(asc + o);
            var as1 = Vector256.Load(asc + rowBlocks + o);
            Accumulate(ref c00, ref c01, i00, i01, ws + o, as0, as1);
            Accumulate(ref c10, ref c11, i10, i11, ws + rowBlocks + o, as0, as1);
            Accumulate(ref c20, ref c21, i20, i21, ws + 2 * rowBlocks + o, as0, as1);
            Accumulate(ref c30, ref c31, i30, i31, ws + 3 * rowBlocks + o, as0, as1);
        }
        Store4x2(y, yStride, c00, c01, c10, c11, c20, c21, c30, c31);
    }

    /// <summary>
    /// <see cref="Tile4x2{TDot}"/> for 4-bit codes on plain AVX2: the vpmaddubsw pair sums of a whole group stay in 16
    /// bits and are widened once per group. A pair sum of codes up to 15 and activations up to 127 in magnitude is at most
    /// 3810, so the eight steps of a group add up to at most 30480 and cannot saturate.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static void NibbleTile4x2(byte* u, float* ws, int rowBytes, int rowBlocks, sbyte* a, float* asc, int groups, float* y, int yStride)
    {
        var ones = Vector256.Create((short)1);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<short> i00 = default, i01 = default, i10 = default, i11 = default;
            Vector256<short> i20 = default, i21 = default, i30 = default, i31 = default;
            byte* ug = u + g * GroupBytes;
            sbyte* ag = a + g * GroupBytes;
            for (int s = 0; s < GroupBlocks * 32; s += 32)
            {
                var a0 = Vector256.Load(ag + s);
                var a1 = Vector256.Load(ag + rowBytes + s);
                var w = Vector256.Load(ug + s);
                i00 += Avx2.MultiplyAddAdjacent(w, a0); i01 += Avx2.MultiplyAddAdjacent(w, a1);
                w = Vector256.Load(ug + rowBytes + s);
                i10 += Avx2.MultiplyAddAdjacent(w, a0); i11 += Avx2.MultiplyAddAdjacent(w, a1);
                w = Vector256.Load(ug + 2 * rowBytes + s);
                i20 += Avx2.MultiplyAddAdjacent(w, a0); i21 += Avx2.MultiplyAddAdjacent(w, a1);
                w = Vector256.Load(ug + 3 * rowBytes + s);
                i30 += Avx2.MultiplyAddAdjacent(w, a0); i31 += Avx2.MultiplyAddAdjacent(w, a1);
            }
            int o = g * GroupBlocks;
            var as0 = Vector256.Load(asc + o);
            var as1 = Vector256.Load(asc + rowBlocks + o);
            Accumulate(ref c00, ref c01, Avx2.MultiplyAddAdjacent(i00, ones), Avx2.MultiplyAddAdjacent(i01, ones), ws + o, as0, as1);
            Accumulate(ref c10, ref c11, Avx2.MultiplyAddAdjacent(i10, ones), Avx2.MultiplyAddAdjacent(i11, ones), ws + rowBlocks + o, as0, as1);
            Accumulate(ref c20, ref c21, Avx2.MultiplyAddAdjacent(i20, ones), Avx2.MultiplyAddAdjacent(i21, ones), ws + 2 * rowBlocks + o, as0, as1);
            Accumulate(ref c30, ref c31, Avx2.MultiplyAddAdjacent(i30, ones), Avx2.MultiplyAddAdjacent(i31, ones), ws + 3 * rowBlocks + o, as0, as1);
        }
        Store4x2(y, yStride, c00, c01, c10, c11, c20, c21, c30, c31);
    }

    /// <summary>Each of the 4 × 2 dot products summed over its lanes into y (rows across, tokens yStride apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4x2(float* y, int yStride, Vector256<float> c00, Vector256<float> c01, Vector256<float> c10, Vector256<float> c11,
        Vector256<float> c20, Vector256<float> c21, Vector256<float> c30, Vector256<float> c31)
    {
        y[0] = Vector256.Sum(c00); y[yStride] = Vector256.Sum(c01);
        y[1] = Vector256.Sum(c10); y[yStride + 1] = Vector256.Sum(c11);
        y[2] = Vector256.Sum(c20); y[yStride + 2] = Vector256.Sum(c21);
        y[3] = Vector256.Sum(c30); y[yStride + 3] = Vector256.Sum(c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<float> c0, ref Vector256<float> c1, Vector256<int> i0, Vector256<int> i1,
        float* ws, Vector256<float> as0, Vector256<float> as1)
    {
        var scale = Vector256.Load(ws);
        c0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), scale * as0, c0);
        c1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1), scale * as1, c1);
    }
}
