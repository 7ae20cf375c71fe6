using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q4_K, Q5_K and Q6_K rows times Q8_K activations on 256-bit vectors. Weight codes are unsigned (Q4_K nibbles 0–15, Q5_K codes 0–31,
/// Q6_K codes 0–63), so pmaddubsw multiplies them with the signed activation bytes into 16-bit pair sums without
/// saturating (63·127·2 &lt; 2¹⁵), and pmaddwd (vpdpwssd with AVX-VNNI) applies the 16-bit sub-block scales while
/// widening to 32 bits.
/// Offsets leave the integer loop as one product per 16 values with the activation block sums: Q4_K's and Q5_K's
/// −dmin·min, and Q6_K's −32 (Σ(u − 32)·a = Σu·a − 32·Σa).
/// <para>
/// Decode reads the stored blocks directly. Prefill unpacks a row once into codes in element order, a 16-bit scale
/// per code pair, a float scale per super-block and a float offset per 16 values, and reuses it for every token
/// (on 512-bit vectors where AVX-512BW is selected: about 1.25× the 256-bit tile in a rough timing).
/// </para>
/// </summary>
internal static unsafe class KQuantKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, Group = ScalarKQuantKernels.Group;
    private const int GroupsPerSuperBlock = SuperBlock / Group;

    /// <summary>Bytes of one row unpacked by <see cref="Unpack"/>.</summary>
    public static long UnpackedBytes(int n) => 2L * n + (n / SuperBlock + n / Group) * sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ScaledDot(Vector256<int> acc, Vector256<byte> u, sbyte* a, Vector256<short> scales)
    {
        var pairs = Avx2.MultiplyAddAdjacent(u, Vector256.Load(a));
        // vpdpwssd applies the scales and accumulates in one instruction where AVX-VNNI is present.
        return AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, pairs, scales) : acc + Avx2.MultiplyAddAdjacent(pairs, scales);
    }

    /// <summary>
    /// <see cref="ScalarKQuantKernels.QuantizeActivations"/> on vectors, bit for bit: the same first extreme, the
    /// same iscale, and vroundps's ties-to-even rounding, which is what nearest_int computes for |v| ≤ 127.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void QuantizeActivations(float* x, int n, sbyte* q, float* d, short* sums)
    {
        for (int b = 0; b < n / SuperBlock; b++, x += SuperBlock, q += SuperBlock, sums += GroupsPerSuperBlock)
        {
            var amaxes = Vector256<float>.Zero;
            for (int j = 0; j < SuperBlock; j += 8) amaxes = Vector256.Max(amaxes, Vector256.Abs(Vector256.Load(x + j)));
            var m = Vector128.Max(amaxes.GetLower(), amaxes.GetUpper());
            float amax = MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
            if (amax == 0)
            {
                d[b] = 0;
                new Span<sbyte>(q, SuperBlock).Clear();
                new Span<short>(sums, GroupsPerSuperBlock).Clear();
                continue;
            }
            // The scale comes from the first value of largest magnitude, as in the reference. The bound keeps a NaN
            // amax (which matches nothing) inside the block; the output is meaningless then, as with any NaN input.
            int first = 0;
            while (first < SuperBlock - 1 && MathF.Abs(x[first]) != amax) first++;
            float iscale = -127f / x[first];
            var scale = Vector256.Create(iscale);
            var top = Vector256.Create(127);
            for (int g = 0; g < GroupsPerSuperBlock; g++)
            {
                var i0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + 16 * g) * scale)), top);
                var i1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + 16 * g + 8) * scale)), top);
                var codes = Vector256.Narrow(i0, i1);
                Vector128.Narrow(codes.GetLower(), codes.GetUpper()).Store(q + 16 * g);
                sums[g] = (short)Vector256.Sum(i0 + i1);
            }
            d[b] = 1 / iscale;
        }
    }

    /// <summary>One Q4_K or Q5_K row (<typeparamref name="TCodes"/>) times Q8_K activations.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotScaleMin<TCodes>(byte* w, sbyte* a, float* da, short* sums, int superBlocks) where TCodes : struct, IScaleMinCodes
    {
        float* table = HalfFloat.TablePointer;
        var ones = Vector256.Create((short)1);
        var patterns = stackalloc Vector256<byte>[8];
        for (int j = 0; j < 8; j++) patterns[j] = Vector256.Create((ushort)(2 * j | (2 * j + 1) << 8)).AsByte();
        Vector256<float> acc = default, minAcc = default;
        for (int b = 0; b < superBlocks; b++, w += TCodes.BlockBytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, TCodes.BlockBytes);
            var (scales, mins) = Q4ScalesAndMins(w + 4);
            // Sixteen-bit scales 0–7 in both 128-bit halves; pshufb then broadcasts one without leaving the vector unit.
            var wideScales = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(scales).AsByte()).AsByte();
            var bothScales = Vector256.Create(wideScales, wideScales);
            // Four accumulators: one chain of eight dependent vpdpwssd per block was latency-bound (22 → 30 GB/s per core measured).
            Vector256<int> dot0 = default, dot1 = default, dot2 = default, dot3 = default;
            // Written out for the two pairs of chunks, so that each chunk's number (Q5_K's shift of its fifth bits) is a constant.
            ChunkPair<TCodes>(w, 0, a, bothScales, patterns, ref dot0, ref dot1, ref dot2, ref dot3);
            ChunkPair<TCodes>(w, 2, a, bothScales, patterns, ref dot0, ref dot1, ref dot2, ref dot3);
            var dot = (dot0 + dot1) + (dot2 + dot3);
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(table[*(ushort*)w] * da[b]), acc);
            // Lane j: min_j times the activation sum of sub-block j (two 16-value sums).
            var subBlockSums = Avx2.MultiplyAddAdjacent(Vector256.Load(sums), ones);
            var minProducts = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(mins).AsByte()) * subBlockSums;
            minAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(minProducts), Vector256.Create(table[*(ushort*)(w + 2)] * da[b]), minAcc);
        }
        return Vector256.Sum(acc - minAcc);
    }

    /// <summary>
    /// The eight 6-bit scales and mins of a Q4_K block as bytes 0–7 of two words, read with three 32-bit loads
    /// (the layout of <see cref="Tensors.Q4_K.ScaleMin"/>: sub-blocks 4–7 keep their top bits in bytes 0–7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong Scales, ulong Mins) Q4ScalesAndMins(byte* packed)
    {
        uint p0 = *(uint*)packed, p1 = *(uint*)(packed + 4), p2 = *(uint*)(packed + 8);
        uint scalesHigh = (p2 & 0x0f0f0f0f) | (((p0 >> 6) & 0x03030303) << 4);
        uint minsHigh = ((p2 >> 4) & 0x0f0f0f0f) | (((p1 >> 6) & 0x03030303) << 4);
        return ((p0 & 0x3f3f3f3f) | ((ulong)scalesHigh << 32), (p1 & 0x3f3f3f3f) | ((ulong)minsHigh << 32));
    }

    [MethodImpl(KernelRoot.Options)]
    public static float DotQ6_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        // pshufb patterns spreading scales 2k (low 128 bits) and 2k + 1 (high) of a half over a chunk's 16 pairs.
        var pick0 = PairScalePattern(0);
        var pick1 = PairScalePattern(1);
        var pick2 = PairScalePattern(2);
        var pick3 = PairScalePattern(3);
        Vector256<float> acc = default, offsetAcc = default;
        for (int b = 0; b < superBlocks; b++, w += ScalarKQuantKernels.Q6_KBytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, ScalarKQuantKernels.Q6_KBytes);
            sbyte* scales = (sbyte*)(w + 192);
            var dot = Vector256<int>.Zero;
            for (int half = 0; half < 2; half++)
            {
                var (u0, u1, u2, u3) = Q6Codes(w, half);
                var halfScales = Sse41.ConvertToVector128Int16(scales + 8 * half).AsByte();
                var both = Vector256.Create(halfScales, halfScales);
                sbyte* ah = a + 128 * half;
                dot = ScaledDot(dot, u0, ah, Avx2.Shuffle(both, pick0).AsInt16());
                dot = ScaledDot(dot, u1, ah + 32, Avx2.Shuffle(both, pick1).AsInt16());
                dot = ScaledDot(dot, u2, ah + 64, Avx2.Shuffle(both, pick2).AsInt16());
                dot = ScaledDot(dot, u3, ah + 96, Avx2.Shuffle(both, pick3).AsInt16());
            }
            float d = table[*(ushort*)(w + 208)] * da[b];
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(d), acc);
            var scaledSums = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(scales), Vector256.Load(sums));
            offsetAcc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(scaledSums), Vector256.Create(32 * d), offsetAcc);
        }
        return Vector256.Sum(acc - offsetAcc);
    }

    /// <summary>Bytes selecting 16-bit lane 2k of a 128-bit half in the low half and lane 2k + 1 in the high half.</summary>
    public static Vector256<byte> PairScalePattern(int k) => Vector256.Create(
        Vector128.Create((ushort)(4 * k | (4 * k + 1) << 8)).AsByte(),
        Vector128.Create((ushort)((4 * k + 2) | (4 * k + 3) << 8)).AsByte());

    /// <summary>One 128-value half's four 32-value code chunks, stored in element order at <paramref name="codes"/> + 128·<paramref name="half"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreHalf((Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) chunks, byte* codes, int half)
    {
        byte* at = codes + 128 * half;
        chunks.Item1.Store(at);
        chunks.Item2.Store(at + 32);
        chunks.Item3.Store(at + 64);
        chunks.Item4.Store(at + 96);
    }

    /// <summary>The 6-bit codes of one 128-value half of a Q6_K block, as four 32-value chunks in element order.</summary>
    /// <remarks>
    /// Each chunk's two high bits are moved to bits 4–5 by masking them where they sit and shifting by the distance
    /// left (one shift per chunk, none for the third): shifts are the scarce port in this kernel.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Q6Codes(byte* block, int half)
    {
        var low = Vector256.Create((byte)0x0f);
        var high = Vector256.Create((byte)0x30);
        var l0 = Vector256.Load(block + 64 * half);
        var l1 = Vector256.Load(block + 64 * half + 32);
        var h = Vector256.Load(block + 128 + 32 * half);
        return (
            (l0 & low) | (Vector256.ShiftLeft(h.AsUInt16(), 4).AsByte() & high),
            (l1 & low) | (Vector256.ShiftLeft(h.AsUInt16(), 2).AsByte() & high),
            (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low) | (h & high),
            (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low) | (Vector256.ShiftRightLogical(h.AsUInt16(), 2).AsByte() & high));
    }

    /// <summary>
    /// Q8_K activations (the codes and scale of <see cref="QuantizeActivations"/>, so both engines sum the same
    /// integers) stored for <see cref="Int8Kernels.DotTile"/>: each super-block is one group of eight 32-value
    /// blocks in the interleaved layout, every block carrying its super-block's scale and its scaled code sum.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void QuantizeActivationsGrouped(float* x, int n, sbyte* q, float* scales, float* sums)
    {
        var natural = stackalloc sbyte[SuperBlock];
        var groupSums = stackalloc short[GroupsPerSuperBlock];
        Span<Vector256<int>> blocks = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int b = 0; b < n / SuperBlock; b++)
        {
            float d;
            QuantizeActivations(x + b * SuperBlock, SuperBlock, natural, &d, groupSums);
            for (int i = 0; i < Int8Kernels.GroupBlocks; i++)
            {
                scales[8 * b + i] = d;
                sums[8 * b + i] = d * (groupSums[2 * i] + groupSums[2 * i + 1]);
                blocks[i] = Vector256.Load((int*)natural + 8 * i);
            }
            Int8Kernels.StoreTransposed(blocks, (int*)(q + b * SuperBlock));
        }
    }

    /// <summary>Chunks <paramref name="chunk"/> and <paramref name="chunk"/> + 1 of a block into the four accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ChunkPair<TCodes>(byte* w, int chunk, sbyte* a, Vector256<byte> bothScales, Vector256<byte>* patterns,
        ref Vector256<int> dot0, ref Vector256<int> dot1, ref Vector256<int> dot2, ref Vector256<int> dot3) where TCodes : struct, IScaleMinCodes
    {
        TCodes.Chunk(w, chunk, out var u0, out var u1);
        dot0 = ScaledDot(dot0, u0, a + 64 * chunk, Avx2.Shuffle(bothScales, patterns[2 * chunk]).AsInt16());
        dot1 = ScaledDot(dot1, u1, a + 64 * chunk + 32, Avx2.Shuffle(bothScales, patterns[2 * chunk + 1]).AsInt16());
        TCodes.Chunk(w, chunk + 1, out var u2, out var u3);
        dot2 = ScaledDot(dot2, u2, a + 64 * chunk + 64, Avx2.Shuffle(bothScales, patterns[2 * chunk + 2]).AsInt16());
        dot3 = ScaledDot(dot3, u3, a + 64 * chunk + 96, Avx2.Shuffle(bothScales, patterns[2 * chunk + 3]).AsInt16());
    }

    /// <summary>
    /// A Q4_K or Q5_K row in <see cref="Int8Kernels.Unpack"/>'s form for the prefill tile: its eight 32-value sub-blocks
    /// per super-block become blocks with w = (d·scale)·u − dmin·min, which is how both decode.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void UnpackScaleMinGrouped<TCodes>(byte* w, int superBlocks, byte* u, float* scales, float* offsets) where TCodes : struct, IScaleMinCodes
    {
        float* table = HalfFloat.TablePointer;
        Span<Vector256<int>> blocks = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int b = 0; b < superBlocks; b++)
        {
            byte* block = w + (long)b * TCodes.BlockBytes;
            var (subScales, subMins) = Q4ScalesAndMins(block + 4);
            float d = table[*(ushort*)block], dmin = table[*(ushort*)(block + 2)];
            for (int chunk = 0; chunk < 4; chunk++)
            {
                TCodes.Chunk(block, chunk, out var low, out var high);
                blocks[2 * chunk] = low.AsInt32();
                blocks[2 * chunk + 1] = high.AsInt32();
            }
            for (int j = 0; j < Int8Kernels.GroupBlocks; j++)
            {
                scales[8 * b + j] = d * (byte)(subScales >> (8 * j));
                offsets[8 * b + j] = dmin * (byte)(subMins >> (8 * j));
            }
            Int8Kernels.StoreTransposed(blocks, (int*)(u + b * Int8Kernels.GroupBytes));
        }
    }

    /// <summary>
    /// Unpacks one Q4_K or Q6_K row of n values at <paramref name="u"/>: n codes, n/2 pair scales (16-bit), n/256
    /// super-block scales and n/16 offsets (floats), so that the row is Σ_b d_b·Σ scale·u·a − Σ_g offset_g·Σa_g.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void Unpack(bool q6, byte* w, int n, byte* u)
    {
        float* table = HalfFloat.TablePointer;
        short* pairScales = (short*)(u + n);
        float* superScales = (float*)(u + 2L * n);
        float* offsets = superScales + n / SuperBlock;
        for (int b = 0; b < n / SuperBlock; b++)
        {
            byte* codes = u + b * SuperBlock;
            short* ps = pairScales + b * SuperBlock / 2;
            float* off = offsets + b * GroupsPerSuperBlock;
            if (q6)
            {
                byte* block = w + (long)b * ScalarKQuantKernels.Q6_KBytes;
                sbyte* scales = (sbyte*)(block + 192);
                float d = table[*(ushort*)(block + 208)];
                superScales[b] = d;
                for (int half = 0; half < 2; half++)
                {
                    var (c0, c1, c2, c3) = Q6Codes(block, half);
                    c0.Store(codes + 128 * half);
                    c1.Store(codes + 128 * half + 32);
                    c2.Store(codes + 128 * half + 64);
                    c3.Store(codes + 128 * half + 96);
                }
                for (int g = 0; g < GroupsPerSuperBlock; g++)
                {
                    Vector128.Create((short)scales[g]).Store(ps + 8 * g);
                    off[g] = d * 32 * scales[g];
                }
            }
            else
            {
                byte* block = w + (long)b * ScalarKQuantKernels.Q4_KBytes;
                var (scales, mins) = Q4ScalesAndMins(block + 4);
                float d = table[*(ushort*)block], dmin = table[*(ushort*)(block + 2)];
                superScales[b] = d;
                var mask = Vector256.Create((byte)0x0f);
                for (int chunk = 0; chunk < 4; chunk++)
                {
                    var q = Vector256.Load(block + 16 + 32 * chunk);
                    (q & mask).Store(codes + 64 * chunk);
                    (Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask).Store(codes + 64 * chunk + 32);
                }
                for (int j = 0; j < 8; j++)
                {
                    Vector256.Create((short)(byte)(scales >> (8 * j))).Store(ps + 16 * j);
                    off[2 * j] = off[2 * j + 1] = dmin * (byte)(mins >> (8 * j));
                }
            }
        }
    }

    /// <summary>
    /// y[t·yStride + r] for every token t and the <paramref name="rows"/> (1 or 2) unpacked rows at
    /// <paramref name="u"/>, <see cref="UnpackedBytes"/> apart, against each token's Q8_K activations (row-major
    /// [tokens, n] codes, [tokens, n/256] scales) and group sums already multiplied by their block scale
    /// ([tokens, n/16] floats, see <see cref="ScaleGroupSums"/>). A 2×2 tile shares every load of a row between two
    /// tokens and every load of a token between two rows; <paramref name="wide"/> runs it on 512-bit vectors.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotUnpacked(byte* u, int rows, int n, sbyte* a, float* da, float* scaledSums, int tokens, float* y, int yStride, bool wide)
    {
        int superBlocks = n / SuperBlock, groups = n / Group;
        long rowBytes = UnpackedBytes(n);
        byte* u1 = rows == 2 ? u + rowBytes : u;
        float* offsets0 = (float*)(u + 2L * n) + superBlocks;
        float* offsets1 = (float*)(u1 + 2L * n) + superBlocks;
        for (int t = 0; t < tokens; t += 2)
        {
            // A missing second token or row is stood in for by the first; its results are dropped.
            int t1 = Math.Min(t + 1, tokens - 1);
            var dots = wide
                ? IntegerTile512(u, u1, n, a + (long)t * n, da + (long)t * superBlocks, a + (long)t1 * n, da + (long)t1 * superBlocks)
                : IntegerTile(u, u1, n, a + (long)t * n, da + (long)t * superBlocks, a + (long)t1 * n, da + (long)t1 * superBlocks);
            float* s0 = scaledSums + (long)t * groups, s1 = scaledSums + (long)t1 * groups;
            y[(long)t * yStride] = dots[0] - FloatDot(offsets0, s0, groups);
            if (t1 != t) y[(long)t1 * yStride] = dots[1] - FloatDot(offsets0, s1, groups);
            if (rows < 2) continue;
            y[(long)t * yStride + 1] = dots[2] - FloatDot(offsets1, s0, groups);
            if (t1 != t) y[(long)t1 * yStride + 1] = dots[3] - FloatDot(offsets1, s1, groups);
        }
    }

    /// <summary>The d·Σ scale·u·a part for unpacked rows u0, u1 and activation rows a0, a1: (r0t0, r0t1, r1t0, r1t1).</summary>
    [MethodImpl(KernelRoot.Options)]
    private static Vector128<float> IntegerTile(byte* u0, byte* u1, int n, sbyte* a0, float* da0, sbyte* a1, float* da1)
    {
        short* scales0 = (short*)(u0 + n), scales1 = (short*)(u1 + n);
        float* super0 = (float*)(u0 + 2L * n), super1 = (float*)(u1 + 2L * n);
        Vector256<float> acc00 = default, acc01 = default, acc10 = default, acc11 = default;
        for (int b = 0; b < n / SuperBlock; b++)
        {
            Vector256<int> dot00 = default, dot01 = default, dot10 = default, dot11 = default;
            int e0 = b * SuperBlock;
            for (int e = e0; e < e0 + SuperBlock; e += 32)
            {
                var w0 = Vector256.Load(u0 + e);
                var w1 = Vector256.Load(u1 + e);
                var s0 = Vector256.Load(scales0 + e / 2);
                var s1 = Vector256.Load(scales1 + e / 2);
                dot00 = ScaledDot(dot00, w0, a0 + e, s0);
                dot01 = ScaledDot(dot01, w0, a1 + e, s0);
                dot10 = ScaledDot(dot10, w1, a0 + e, s1);
                dot11 = ScaledDot(dot11, w1, a1 + e, s1);
            }
            acc00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot00), Vector256.Create(super0[b] * da0[b]), acc00);
            acc01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot01), Vector256.Create(super0[b] * da1[b]), acc01);
            acc10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot10), Vector256.Create(super1[b] * da0[b]), acc10);
            acc11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot11), Vector256.Create(super1[b] * da1[b]), acc11);
        }
        return Vector128.Create(Vector256.Sum(acc00), Vector256.Sum(acc01), Vector256.Sum(acc10), Vector256.Sum(acc11));
    }

    /// <summary><see cref="IntegerTile"/> on 512-bit vectors (AVX-512BW, which has no vpdpwssd in .NET): 64 codes a step.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static Vector128<float> IntegerTile512(byte* u0, byte* u1, int n, sbyte* a0, float* da0, sbyte* a1, float* da1)
    {
        short* scales0 = (short*)(u0 + n), scales1 = (short*)(u1 + n);
        float* super0 = (float*)(u0 + 2L * n), super1 = (float*)(u1 + 2L * n);
        Vector512<float> acc00 = default, acc01 = default, acc10 = default, acc11 = default;
        for (int b = 0; b < n / SuperBlock; b++)
        {
            Vector512<int> dot00 = default, dot01 = default, dot10 = default, dot11 = default;
            int e0 = b * SuperBlock;
            for (int e = e0; e < e0 + SuperBlock; e += 64)
            {
                var w0 = Vector512.Load(u0 + e);
                var w1 = Vector512.Load(u1 + e);
                var s0 = Vector512.Load(scales0 + e / 2);
                var s1 = Vector512.Load(scales1 + e / 2);
                var x0 = Vector512.Load(a0 + e);
                var x1 = Vector512.Load(a1 + e);
                dot00 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w0, x0), s0);
                dot01 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w0, x1), s0);
                dot10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w1, x0), s1);
                dot11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w1, x1), s1);
            }
            acc00 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot00), Vector512.Create(super0[b] * da0[b]), acc00);
            acc01 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot01), Vector512.Create(super0[b] * da1[b]), acc01);
            acc10 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot10), Vector512.Create(super1[b] * da0[b]), acc10);
            acc11 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot11), Vector512.Create(super1[b] * da1[b]), acc11);
        }
        return Vector128.Create(Vector512.Sum(acc00), Vector512.Sum(acc01), Vector512.Sum(acc10), Vector512.Sum(acc11));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FloatDot(float* x, float* y, int n)
    {
        Vector256<float> acc = default;
        for (int i = 0; i < n; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc);
        return Vector256.Sum(acc);
    }

    /// <summary>scaled[g] = sums[g]·d[g/16] for n/16 groups: the activation side of the offset term, once per call.</summary>
    public static void ScaleGroupSums(short* sums, float* d, int groups, float* scaled)
    {
        for (int g = 0; g < groups; g++) scaled[g] = sums[g] * d[g / GroupsPerSuperBlock];
    }
}
