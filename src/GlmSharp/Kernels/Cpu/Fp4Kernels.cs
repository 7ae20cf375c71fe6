using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// MXFP4 and NVFP4 weights times activations quantized to 8-bit blocks of 32 (ggml's vec_dot_type for both is Q8_0).
/// Each run of 32 weights (a "chunk", facing one activation block) becomes 32 signed bytes by a byte shuffle of the
/// nibbles through the doubled E2M1 table, with the half-scale of each 16 beside it (MXFP4's block scale twice,
/// NVFP4's two sub-block scales). vpdpbusd multiplies unsigned by signed bytes, so a dot takes |w| and the
/// activations carrying w's sign: Σ|w|·sign(w)·a = Σw·a with no offset to take back. Lanes 0–3 of the result sum
/// the chunk's first 16 products and lanes 4–7 the second, so one vector of scales applies both halves.
/// <para>Prefill unpacks four weight rows into codes and scale vectors once and reuses them for every token.</para>
/// </summary>
internal static unsafe class Fp4Kernels
{
    public const int Chunk = 32;

    public static bool Handles(GgmlType type) => type is GgmlType.MXFP4 or GgmlType.NVFP4;

    // Half of every UE4M3 and E8M0 byte, read per block inside dot loops (see HalfFloat for why a table).
    private static readonly float[] Ue4m3Halves = BuildTable(Fp4.Ue4m3Half);
    private static float* Ue4m3Pointer { get; } = (float*)Unsafe.AsPointer(ref Ue4m3Halves[0]);
    private static readonly float[] E8M0Halves = BuildTable(Fp4.E8M0Half);
    private static float* E8M0Pointer { get; } = (float*)Unsafe.AsPointer(ref E8M0Halves[0]);

    private static float[] BuildTable(Func<byte, float> half)
    {
        var table = GC.AllocateArray<float>(256, pinned: true);
        for (int code = 0; code < 256; code++) table[code] = half((byte)code);
        return table;
    }

    /// <summary>Bytes of scratch <see cref="Rows"/> needs per thread for a prefill of rows of <paramref name="inputs"/> weights.</summary>
    public static long ScratchBytes(int inputs) => 4L * (inputs + inputs / Chunk * 8 * sizeof(float));

    /// <summary>
    /// The activation layout the kernels read: a single MXFP4 token on a vector path takes <see cref="ActivationLayout.NibblePairs"/>
    /// (see <see cref="DotMxfp4Pairs"/>), every other case the natural order.
    /// </summary>
    public static ActivationLayout Layout(GgmlType type, CpuIsa isa, bool oneToken) =>
        type == GgmlType.MXFP4 && isa >= CpuIsa.Avx2 && oneToken ? ActivationLayout.NibblePairs : ActivationLayout.Natural;

    /// <summary>
    /// y[t·outputs + o] for weight rows [first, end) and every token: <paramref name="q"/> and
    /// <paramref name="qScales"/> hold the activation codes in <see cref="Layout"/> and block scales, rows
    /// <paramref name="qRowBytes"/> and <paramref name="qRowBlocks"/> apart.
    /// </summary>
    public static void Rows(GgmlType type, CpuIsa isa, byte* weights, long rowBytes, int inputs, int outputs, int first, int end,
        sbyte* q, float* qScales, int qRowBytes, int qRowBlocks, int tokens, float* y, NativeBuffer* scratch)
    {
        int chunks = inputs / Chunk;
        if (isa < CpuIsa.Avx2)
        {
            for (int o = first; o < end; o++)
                for (int t = 0; t < tokens; t++)
                    y[(long)t * outputs + o] = DotReference(type, weights + o * rowBytes, q + (long)t * qRowBytes, qScales + (long)t * qRowBlocks, chunks);
        }
        else if (tokens == 1)
        {
            for (int o = first; o < end; o++)
            {
                y[o] = type == GgmlType.MXFP4
                    ? DotMxfp4Pairs(weights + o * rowBytes, q, qScales, chunks)
                    : DotRow<Nvfp4Chunks>(weights + o * rowBytes, q, qScales, chunks);
            }
        }
        else
        {
            sbyte* codes = (sbyte*)scratch->Pointer;
            float* scales = (float*)(codes + 4L * inputs);
            for (int o = first; o < end; o += 4)
            {
                int rows = Math.Min(4, end - o);
                for (int r = 0; r < rows; r++)
                {
                    byte* w = weights + (o + r) * rowBytes;
                    if (type == GgmlType.MXFP4) Unpack<Mxfp4Chunks>(w, chunks, codes + r * inputs, scales + r * chunks * 8);
                    else Unpack<Nvfp4Chunks>(w, chunks, codes + r * inputs, scales + r * chunks * 8);
                }
                Tile(codes, scales, inputs, rows, q, qScales, qRowBytes, qRowBlocks, tokens, y + o, outputs);
            }
        }
    }

    /// <summary>
    /// The definition the vector paths are tested against: per half-chunk of 16, the exact integer dot of doubled
    /// E2M1 values with activation codes, times the weight half-scale and the activation scale (ggml's generic
    /// vec_dot_mxfp4_q8_0 / vec_dot_nvfp4_q8_0).
    /// </summary>
    public static float DotReference(GgmlType type, byte* w, sbyte* q, float* qScales, int chunks)
    {
        var values = Fp4.DoubledValues;
        float sum = 0;
        for (int k = 0; k < chunks; k++)
        {
            sbyte* a = q + k * Chunk;
            for (int half = 0; half < 2; half++)
            {
                int dot = 0;
                float halfScale;
                if (type == GgmlType.MXFP4)
                {
                    byte* block = w + k * Mxfp4.BytesPerBlock;
                    halfScale = Fp4.E8M0Half(block[0]);
                    for (int j = 0; j < 16; j++) dot += values[half == 0 ? block[1 + j] & 0x0f : block[1 + j] >> 4] * a[half * 16 + j];
                }
                else
                {
                    byte* block = w + k / 2 * Nvfp4.BytesPerBlock;
                    int sub = k % 2 * 2 + half;
                    halfScale = Fp4.Ue4m3Half(block[sub]);
                    byte* codes = block + Nvfp4.SubBlocks + sub * 8;
                    for (int j = 0; j < 8; j++) dot += values[codes[j] & 0x0f] * a[half * 16 + j] + values[codes[j] >> 4] * a[half * 16 + 8 + j];
                }
                sum += halfScale * qScales[k] * dot;
            }
        }
        return sum;
    }

    /// <summary>Where chunk k of a row lives in one stored format: its 32 codes in element order and its two half-scales.</summary>
    private interface IChunks
    {
        static abstract Vector256<sbyte> Codes(byte* row, int k);
        static abstract Vector256<float> HalfScales(byte* row, int k);
        /// <summary>Bytes that two chunks take in a row.</summary>
        static abstract int PairBytes { get; }
    }

    private readonly struct Mxfp4Chunks : IChunks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> Codes(byte* row, int k)
        {
            var (low, high) = Lookup(row + k * Mxfp4.BytesPerBlock + 1);
            return Vector256.Create(low, high);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> HalfScales(byte* row, int k) => Vector256.Create(Fp4.E8M0Half(row[k * Mxfp4.BytesPerBlock]));
        public static int PairBytes => 2 * Mxfp4.BytesPerBlock;
    }

    private readonly struct Nvfp4Chunks : IChunks
    {
        /// <summary>Sixteen bytes hold two sub-blocks: low nibbles are elements 0–7 and 16–23, high nibbles 8–15 and 24–31.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> Codes(byte* row, int k)
        {
            var (low, high) = Lookup(row + k / 2 * Nvfp4.BytesPerBlock + Nvfp4.SubBlocks + k % 2 * 16);
            return Vector256.Create(
                Sse2.UnpackLow(low.AsInt64(), high.AsInt64()).AsSByte(),
                Sse2.UnpackHigh(low.AsInt64(), high.AsInt64()).AsSByte());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> HalfScales(byte* row, int k)
        {
            byte* scales = row + k / 2 * Nvfp4.BytesPerBlock + k % 2 * 2;
            float* table = Ue4m3Pointer;
            return Vector256.Create(Vector128.Create(table[scales[0]]), Vector128.Create(table[scales[1]]));
        }

        public static int PairBytes => Nvfp4.BytesPerBlock;
    }

    /// <summary>Low and high nibbles of 16 bytes mapped to doubled E2M1 values by pshufb.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> Low, Vector128<sbyte> High) Lookup(byte* packed)
    {
        var table = Vector128.Create(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
        var bytes = Vector128.Load(packed);
        var mask = Vector128.Create((byte)0x0f);
        return (Ssse3.Shuffle(table, (bytes & mask).AsSByte()), Ssse3.Shuffle(table, (Vector128.ShiftRightLogical(bytes, 4) & mask).AsSByte()));
    }

    /// <summary>Σ over each 4-byte group of w·a, with w in [−12, 12] and a in [−127, 127] (no overflow in pmaddubsw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<byte> magnitude, Vector256<sbyte> w, Vector256<sbyte> a)
    {
        var signed = Avx2.Sign(a, w);
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, magnitude, signed);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, signed), Vector256.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotRow<TChunks>(byte* w, sbyte* q, float* qScales, int chunks) where TChunks : IChunks
    {
        Vector256<float> acc0 = default, acc1 = default;
        int k = 0;
        for (; k + 2 <= chunks; k += 2)
        {
            StreamPrefetch.Ahead(w + k / 2 * TChunks.PairBytes, TChunks.PairBytes);
            var w0 = TChunks.Codes(w, k);
            var w1 = TChunks.Codes(w, k + 1);
            var i0 = Dot(Avx2.Abs(w0), w0, Vector256.Load(q + k * Chunk));
            var i1 = Dot(Avx2.Abs(w1), w1, Vector256.Load(q + (k + 1) * Chunk));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), TChunks.HalfScales(w, k) * qScales[k], acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1), TChunks.HalfScales(w, k + 1) * qScales[k + 1], acc1);
        }
        if (k < chunks)
        {
            var w0 = TChunks.Codes(w, k);
            var i0 = Dot(Avx2.Abs(w0), w0, Vector256.Load(q + k * Chunk));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), TChunks.HalfScales(w, k) * qScales[k], acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>
    /// One MXFP4 row against <see cref="ActivationLayout.NibblePairs"/> activations, Q4_0's decode arrangement: two
    /// blocks' packed bytes fill one vector, whose low nibbles (elements 0–15 of both) and high nibbles (16–31) become
    /// signed codes by one shuffle each, no nibble moved into element order; the scales of four blocks are looked up
    /// and combined as one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotMxfp4Pairs(byte* w, sbyte* q, float* qScales, int chunks)
    {
        const int bytes = Mxfp4.BytesPerBlock;
        float* halves = E8M0Pointer;
        var table = Vector256.Create(Vector128.Create((sbyte)0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12));
        Vector256<float> acc0 = default, acc1 = default;
        int k = 0;
        for (; k + 4 <= chunks; k += 4)
        {
            byte* block = w + k * bytes;
            StreamPrefetch.Ahead(block, 4 * bytes);
            var d = Vector128.Create(halves[block[0]], halves[block[bytes]], halves[block[2 * bytes]], halves[block[3 * bytes]])
                * Vector128.Load(qScales + k);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot(block, q + k * Chunk, table)),
                Vector256.Create(Broadcast(d, 0), Broadcast(d, 1)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot(block + 2 * bytes, q + (k + 2) * Chunk, table)),
                Vector256.Create(Broadcast(d, 2), Broadcast(d, 3)), acc1);
        }
        for (; k + 2 <= chunks; k += 2)
        {
            byte* block = w + k * bytes;
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(PairDot(block, q + k * Chunk, table)),
                Vector256.Create(Vector128.Create(halves[block[0]] * qScales[k]), Vector128.Create(halves[block[bytes]] * qScales[k + 1])), acc0);
        }
        if (k < chunks)
        {
            var w0 = Mxfp4Chunks.Codes(w, k);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Dot(Avx2.Abs(w0), w0, Vector256.Load(q + k * Chunk))),
                Vector256.Create(halves[w[k * bytes]] * qScales[k]), acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>Integer dots of two consecutive MXFP4 blocks: lanes 0–3 hold the first block's partial sums, 4–7 the second's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairDot(byte* block, sbyte* q, Vector256<sbyte> table)
    {
        var mask = Vector256.Create((byte)0x0f);
        var packed = Vector256.Create(Vector128.Load(block + 1), Vector128.Load(block + Mxfp4.BytesPerBlock + 1));
        var low = Avx2.Shuffle(table, (packed & mask).AsSByte());
        var high = Avx2.Shuffle(table, (Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask).AsSByte());
        return Dot(Avx2.Abs(low), low, Vector256.Load(q)) + Dot(Avx2.Abs(high), high, Vector256.Load(q + Chunk));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Broadcast(Vector128<float> v, [System.Diagnostics.CodeAnalysis.ConstantExpected] byte lane) =>
        Vector128.Shuffle(v, Vector128.Create((int)lane));

    /// <summary>One stored row as signed codes in element order and, per chunk, its eight lane scales.</summary>
    private static void Unpack<TChunks>(byte* w, int chunks, sbyte* codes, float* scales) where TChunks : IChunks
    {
        for (int k = 0; k < chunks; k++)
        {
            TChunks.Codes(w, k).Store(codes + k * Chunk);
            TChunks.HalfScales(w, k).Store(scales + k * 8);
        }
    }

    /// <summary>Unpacked rows (≤ 4, <paramref name="n"/> codes and n/4 scales apart) against every token, two tokens at a time.</summary>
    private static void Tile(sbyte* codes, float* scales, int n, int rows, sbyte* q, float* qScales, int qRowBytes, int qRowBlocks,
        int tokens, float* y, int yStride)
    {
        int chunks = n / Chunk;
        int t = 0;
        if (rows == 4)
            for (; t + 2 <= tokens; t += 2)
                Tile4x2(codes, scales, n, chunks, q + (long)t * qRowBytes, qRowBytes, qScales + (long)t * qRowBlocks, qRowBlocks, y + (long)t * yStride, yStride);
        for (; t < tokens; t++)
            for (int r = 0; r < rows; r++)
                y[(long)t * yStride + r] = Dot1x1(codes + r * n, scales + r * chunks * 8, q + (long)t * qRowBytes, qScales + (long)t * qRowBlocks, chunks);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1x1(sbyte* codes, float* scales, sbyte* a, float* aScales, int chunks)
    {
        Vector256<float> acc = default;
        for (int k = 0; k < chunks; k++)
        {
            var w = Vector256.Load(codes + k * Chunk);
            var i = Dot(Avx2.Abs(w), w, Vector256.Load(a + k * Chunk));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i), Vector256.Load(scales + k * 8) * aScales[k], acc);
        }
        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2(sbyte* codes, float* scales, int n, int chunks, sbyte* a, int aRowBytes, float* aScales, int aRowBlocks,
        float* y, int yStride)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        int scaleStride = chunks * 8;
        for (int k = 0; k < chunks; k++)
        {
            var a0 = Vector256.Load(a + k * Chunk);
            var a1 = Vector256.Load(a + aRowBytes + k * Chunk);
            float s0 = aScales[k], s1 = aScales[aRowBlocks + k];
            Step(ref c00, ref c01, codes + k * Chunk, scales + k * 8, a0, a1, s0, s1);
            Step(ref c10, ref c11, codes + n + k * Chunk, scales + scaleStride + k * 8, a0, a1, s0, s1);
            Step(ref c20, ref c21, codes + 2 * n + k * Chunk, scales + 2 * scaleStride + k * 8, a0, a1, s0, s1);
            Step(ref c30, ref c31, codes + 3 * n + k * Chunk, scales + 3 * scaleStride + k * 8, a0, a1, s0, s1);
        }
        y[0] = Vector256.Sum(c00); y[yStride] = Vector256.Sum(c01);
        y[1] = Vector256.Sum(c10); y[yStride + 1] = Vector256.Sum(c11);
        y[2] = Vector256.Sum(c20); y[yStride + 2] = Vector256.Sum(c21);
        y[3] = Vector256.Sum(c30); y[yStride + 3] = Vector256.Sum(c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector256<float> c0, ref Vector256<float> c1, sbyte* codes, float* scales,
        Vector256<sbyte> a0, Vector256<sbyte> a1, float s0, float s1)
    {
        var w = Vector256.Load(codes);
        var magnitude = Avx2.Abs(w);
        var ws = Vector256.Load(scales);
        c0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Dot(magnitude, w, a0)), ws * s0, c0);
        c1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Dot(magnitude, w, a1)), ws * s1, c1);
    }
}
