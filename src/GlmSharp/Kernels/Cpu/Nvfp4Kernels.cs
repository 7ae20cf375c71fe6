using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// NVFP4 weights times activations quantized to 8-bit blocks of 32 (ggml's vec_dot_type is Q8_0). Each run of 32
/// weights (a "chunk", facing one activation block) becomes 32 signed bytes by a byte shuffle of the nibbles through
/// the doubled E2M1 table, with the half-scales of its two 16-value sub-blocks beside it. vpdpbusd multiplies unsigned
/// by signed bytes, so a dot takes |w| and the activations carrying w's sign: Σ|w|·sign(w)·a = Σw·a with no offset to
/// take back. Lanes 0–3 of the result sum the chunk's first 16 products and lanes 4–7 the second, so one vector of
/// scales applies both halves. (MXFP4, one scale per 32 values, goes with the legacy block types: <see cref="Mxfp4Block"/>.)
/// <para>Prefill unpacks four weight rows into codes and scale vectors once and reuses them for every token.</para>
/// </summary>
internal static unsafe class Nvfp4Kernels
{
    public const int Chunk = 32;

    public static bool Handles(GgmlType type) => type == GgmlType.NVFP4;

    // Half of every UE4M3 byte, read per sub-block inside dot loops (see HalfFloat for why a table).
    private static readonly float[] Ue4m3Halves = BuildUe4m3Table();
    private static float* Ue4m3Pointer { get; } = (float*)Unsafe.AsPointer(ref Ue4m3Halves[0]);

    private static float[] BuildUe4m3Table()
    {
        var table = GC.AllocateArray<float>(256, pinned: true);
        for (int code = 0; code < 256; code++) table[code] = Fp4.Ue4m3Half((byte)code);
        return table;
    }

    /// <summary>Bytes of scratch <see cref="Rows"/> needs per thread for a prefill of rows of <paramref name="inputs"/> weights.</summary>
    public static long ScratchBytes(int inputs) => 4L * (inputs + inputs / Chunk * 8 * sizeof(float));

    /// <summary>
    /// y[t·outputs + o] for weight rows [first, end) and every token: <paramref name="q"/> and
    /// <paramref name="qScales"/> hold the natural-layout activation codes and block scales, rows
    /// <paramref name="qRowBytes"/> and <paramref name="qRowBlocks"/> apart.
    /// </summary>
    public static void Rows(CpuIsa isa, byte* weights, long rowBytes, int inputs, int outputs, int first, int end,
        sbyte* q, float* qScales, int qRowBytes, int qRowBlocks, int tokens, float* y, NativeBuffer* scratch)
    {
        int chunks = inputs / Chunk;
        if (isa < CpuIsa.Avx2)
        {
            for (int o = first; o < end; o++)
                for (int t = 0; t < tokens; t++)
                    y[(long)t * outputs + o] = DotReference(weights + o * rowBytes, q + (long)t * qRowBytes, qScales + (long)t * qRowBlocks, chunks);
        }
        else if (tokens == 1)
        {
            for (int o = first; o < end; o++) y[o] = DotRow(weights + o * rowBytes, q, qScales, chunks);
        }
        else
        {
            sbyte* codes = (sbyte*)scratch->Pointer;
            float* scales = (float*)(codes + 4L * inputs);
            for (int o = first; o < end; o += 4)
            {
                int rows = Math.Min(4, end - o);
                for (int r = 0; r < rows; r++) Unpack(weights + (o + r) * rowBytes, chunks, codes + r * inputs, scales + r * chunks * 8);
                Tile(codes, scales, inputs, rows, q, qScales, qRowBytes, qRowBlocks, tokens, y + o, outputs);
            }
        }
    }

    /// <summary>
    /// The definition the vector paths are tested against: per 16-value sub-block, the exact integer dot of doubled
    /// E2M1 values with activation codes, times the sub-block's half-scale and the activation scale (ggml's generic
    /// vec_dot_nvfp4_q8_0).
    /// </summary>
    public static float DotReference(byte* w, sbyte* q, float* qScales, int chunks)
    {
        var values = Fp4.DoubledValues;
        float sum = 0;
        for (int k = 0; k < chunks; k++)
        {
            sbyte* a = q + k * Chunk;
            byte* block = w + k / 2 * Nvfp4.BytesPerBlock;
            for (int half = 0; half < 2; half++)
            {
                int sub = k % 2 * 2 + half, dot = 0;
                byte* codes = block + Nvfp4.SubBlocks + sub * 8;
                for (int j = 0; j < 8; j++) dot += values[codes[j] & 0x0f] * a[half * 16 + j] + values[codes[j] >> 4] * a[half * 16 + 8 + j];
                sum += Fp4.Ue4m3Half(block[sub]) * qScales[k] * dot;
            }
        }
        return sum;
    }

    /// <summary>The 32 codes of chunk k in element order: sixteen bytes hold two sub-blocks, low nibbles elements 0–7 and 16–23, high nibbles 8–15 and 24–31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Codes(byte* row, int k)
    {
        var (low, high) = Lookup(row + k / 2 * Nvfp4.BytesPerBlock + Nvfp4.SubBlocks + k % 2 * 16);
        return Vector256.Create(
            Sse2.UnpackLow(low.AsInt64(), high.AsInt64()).AsSByte(),
            Sse2.UnpackHigh(low.AsInt64(), high.AsInt64()).AsSByte());
    }

    /// <summary>The half-scales of chunk k's two sub-blocks, each over the four lanes of its products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfScales(byte* row, int k)
    {
        byte* scales = row + k / 2 * Nvfp4.BytesPerBlock + k % 2 * 2;
        float* table = Ue4m3Pointer;
        return Vector256.Create(Vector128.Create(table[scales[0]]), Vector128.Create(table[scales[1]]));
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

    [MethodImpl(KernelRoot.Options)]
    private static float DotRow(byte* w, sbyte* q, float* qScales, int chunks)
    {
        Vector256<float> acc0 = default, acc1 = default;
        int k = 0;
        for (; k + 2 <= chunks; k += 2)
        {
            StreamPrefetch.Ahead(w + k / 2 * Nvfp4.BytesPerBlock, Nvfp4.BytesPerBlock);
            var w0 = Codes(w, k);
            var w1 = Codes(w, k + 1);
            var i0 = Dot(Avx2.Abs(w0), w0, Vector256.Load(q + k * Chunk));
            var i1 = Dot(Avx2.Abs(w1), w1, Vector256.Load(q + (k + 1) * Chunk));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), HalfScales(w, k) * qScales[k], acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1), HalfScales(w, k + 1) * qScales[k + 1], acc1);
        }
        if (k < chunks)
        {
            var w0 = Codes(w, k);
            var i0 = Dot(Avx2.Abs(w0), w0, Vector256.Load(q + k * Chunk));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0), HalfScales(w, k) * qScales[k], acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>One stored row as signed codes in element order and, per chunk, its eight lane scales.</summary>
    private static void Unpack(byte* w, int chunks, sbyte* codes, float* scales)
    {
        for (int k = 0; k < chunks; k++)
        {
            Codes(w, k).Store(codes + k * Chunk);
            HalfScales(w, k).Store(scales + k * 8);
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

    [MethodImpl(KernelRoot.Options)]
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

    [MethodImpl(KernelRoot.Options)]
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
