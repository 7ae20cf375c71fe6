using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>How many activation rows one pass of a repacked kernel multiplies: each is a generic instance of its own.</summary>
internal interface ITokenTile
{
    static abstract int Count { get; }
}

internal readonly struct OneToken : ITokenTile
{
    public static int Count => 1;
}

internal readonly struct TwoTokens : ITokenTile
{
    public static int Count => 2;
}

internal readonly struct FourTokens : ITokenTile
{
    public static int Count => 4;
}

/// <summary>
/// Eight weight rows of a <see cref="Int8Repack"/> layout times one, two or four activation rows (natural layout),
/// on plain AVX2: a 32-byte chunk of 4-bit codes meets four broadcast activation bytes through vpmaddubsw, its eight
/// 32-bit lanes being eight output rows, so each block ends in one vector of eight row sums — scaled by the eight row
/// scales times the token's scale in one FMA, and nothing is summed across lanes. For 4-bit codes the vpmaddubsw pair
/// sums of a block stay in 16 bits: a pair of codes ≤ 15 times activations ≤ 127 in magnitude is at most 3810, and a
/// block adds eight of them per lane (at most 30480), so nothing saturates and the integer sums are exact.
/// <para>
/// Q4_0: the low and high nibbles of a chunk are elements 4c… and 16+4c… of eight rows, eight vpmaddubsw per block and
/// token, and the codes' offset 8 comes back per block as d_w·8·(d_a·Σa), with d_a·Σa stored beside the activation
/// block. Q8_0 keeps its signed codes (see <see cref="DotQ8_0{TTile}"/>).
/// </para>
/// </summary>
internal static unsafe class RepackedInt8Kernels
{
    private const int Block = Int8Kernels.Block;
    private const int ScaleBytes = Int8Repack.Rows * sizeof(ushort);
    private const int ChunkBytes = 32;
    private const int Q4_0BlockBytes = ScaleBytes + Int8Repack.Rows * Block / 2;
    private const int Q8_0BlockBytes = ScaleBytes + Int8Repack.Rows * Block;

    /// <summary>
    /// y[t·yStride + r] = Σ_k w[r, k]·x[t, k] for the eight rows of the Q4_0 group at <paramref name="w"/> and
    /// <typeparamref name="TTile"/> activation rows t (codes <paramref name="codeStride"/> bytes apart, scales and sums
    /// <paramref name="scaleStride"/> blocks apart). The chunks of a block are unrolled and every token walks its own
    /// pointers: the loop is short enough that address arithmetic was a fifth of its instructions.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ4_0<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, float* sums, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var mask = Vector256.Create((byte)0x0f);
        nint codes1 = codeStride, codes2 = 2 * codes1, codes3 = 3 * codes1;
        nint scales1 = scaleStride, scales2 = 2 * scales1, scales3 = 3 * scales1;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += Q4_0BlockBytes, a += Block, scales++, sums++)
        {
            StreamPrefetch.Ahead(w, Q4_0BlockBytes);
            Vector256<short> i0 = default, i1 = default, i2 = default, i3 = default;
            NibbleChunk<TTile>(w, 0, mask, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            NibbleChunk<TTile>(w, 1, mask, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            NibbleChunk<TTile>(w, 2, mask, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            NibbleChunk<TTile>(w, 3, mask, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            var d = RowScales(w);
            AddOffsetBlocks<TTile>(ref f0, ref f1, ref f2, ref f3, default, default, default, default, i0, i1, i2, i3, d, d * 8f,
                scales, sums, scales1, scales2, scales3);
        }
        StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>Chunk <paramref name="c"/> of a Q4_0 block: its nibbles split once, then met by every token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NibbleChunk<TTile>(byte* w, int c, Vector256<byte> mask, sbyte* a, nint codes1, nint codes2, nint codes3,
        ref Vector256<short> i0, ref Vector256<short> i1, ref Vector256<short> i2, ref Vector256<short> i3) where TTile : struct, ITokenTile
    {
        var packed = Vector256.Load(w + ScaleBytes + c * ChunkBytes);
        var low = packed & mask;
        var high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask;
        AddNibblePairs<TTile>(low, high, a + 4 * c, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
    }

    /// <summary>Each token's 16-bit pair sums of a chunk's low and high codes (<see cref="NibblePair"/>) added to its own.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddNibblePairs<TTile>(Vector256<byte> low, Vector256<byte> high, sbyte* a, nint codes1, nint codes2, nint codes3,
        ref Vector256<short> s0, ref Vector256<short> s1, ref Vector256<short> s2, ref Vector256<short> s3) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        s0 += NibblePair(low, high, a);
        if (n > 1) s1 += NibblePair(low, high, a + codes1);
        if (n > 2)
        {
            s2 += NibblePair(low, high, a + codes2);
            s3 += NibblePair(low, high, a + codes3);
        }
    }

    /// <summary>
    /// Each token's block of offset codes into its accumulator: its 32-bit sums so far plus its 16-bit pair sums, by
    /// <see cref="AddBlock(Vector256{float}, Vector256{int}, Vector256{float}, Vector256{float}, float*, float*)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddOffsetBlocks<TTile>(ref Vector256<float> f0, ref Vector256<float> f1, ref Vector256<float> f2, ref Vector256<float> f3,
        Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3, Vector256<short> s0, Vector256<short> s1, Vector256<short> s2,
        Vector256<short> s3, Vector256<float> d, Vector256<float> offset, float* scales, float* sums, nint scales1, nint scales2, nint scales3)
        where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        f0 = AddBlock(f0, i0 + Widen(s0), d, offset, scales, sums);
        if (n > 1) f1 = AddBlock(f1, i1 + Widen(s1), d, offset, scales + scales1, sums + scales1);
        if (n > 2)
        {
            f2 = AddBlock(f2, i2 + Widen(s2), d, offset, scales + scales2, sums + scales2);
            f3 = AddBlock(f3, i3 + Widen(s3), d, offset, scales + scales3, sums + scales3);
        }
    }

    /// <summary>
    /// <see cref="DotQ4_0{TTile}"/> for a Q5_0 group in the <see cref="Q5Repack"/> layout: each chunk's nibbles get their
    /// fifth bits from the block's re-ordered bit plane by one shift and mask per half, then meet every token. Codes
    /// reach 31, so a chunk's 16-bit pair sums (two halves, at most 2·2·31·127 = 15748) are widened every two chunks;
    /// the offset 16 comes back as for Q4_0.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ5_0<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, float* sums, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile =>
        DotFiveBit<TTile>(w, blocks, a, codeStride, scales, sums, scaleStride, y, yStride, hasMin: false);

    /// <summary>
    /// <see cref="DotQ5_0{TTile}"/> for a Q5_1 group, whose codes carry no offset but each block a min m: w = d·u + m, so
    /// the block adds m·(d_a·Σa) where Q5_0 subtracts 16·d.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ5_1<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, float* sums, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile =>
        DotFiveBit<TTile>(w, blocks, a, codeStride, scales, sums, scaleStride, y, yStride, hasMin: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotFiveBit<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, float* sums, int scaleStride,
        float* y, int yStride, bool hasMin) where TTile : struct, ITokenTile
    {
        int n = TTile.Count, blockBytes = Int8Repack.Rows * Q5Repack.StoredBlockBytes(hasMin);
        byte* chunks = w + Q5Repack.ChunksOffset(hasMin);
        var mask = Vector256.Create((byte)0x0f);
        var fifth = Vector256.Create((byte)0x10);
        nint codes1 = codeStride, codes2 = 2 * codes1, codes3 = 3 * codes1;
        nint scales1 = scaleStride, scales2 = 2 * scales1, scales3 = 3 * scales1;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += blockBytes, chunks += blockBytes, a += Block, scales++, sums++)
        {
            StreamPrefetch.Ahead(w, blockBytes);
            var bits = Vector256.Load(w + Q5Repack.FifthBitsOffset(hasMin)).AsUInt16();
            Vector256<short> s0 = default, s1 = default, s2 = default, s3 = default;
            FifthBitChunk<TTile>(chunks, 0, bits, mask, fifth, a, codes1, codes2, codes3, ref s0, ref s1, ref s2, ref s3);
            FifthBitChunk<TTile>(chunks, 1, bits, mask, fifth, a, codes1, codes2, codes3, ref s0, ref s1, ref s2, ref s3);
            Vector256<int> i0 = Widen(s0), i1 = default, i2 = default, i3 = default;
            if (n > 1) i1 = Widen(s1);
            if (n > 2)
            {
                i2 = Widen(s2);
                i3 = Widen(s3);
            }
            s0 = s1 = s2 = s3 = default;
            FifthBitChunk<TTile>(chunks, 2, bits, mask, fifth, a, codes1, codes2, codes3, ref s0, ref s1, ref s2, ref s3);
            FifthBitChunk<TTile>(chunks, 3, bits, mask, fifth, a, codes1, codes2, codes3, ref s0, ref s1, ref s2, ref s3);
            var d = RowScales(w);
            var offset = hasMin ? -RowScales(w + Int8Repack.Rows * sizeof(ushort)) : d * 16f;
            AddOffsetBlocks<TTile>(ref f0, ref f1, ref f2, ref f3, i0, i1, i2, i3, s0, s1, s2, s3, d, offset, scales, sums, scales1, scales2, scales3);
        }
        StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>
    /// Chunk <paramref name="c"/> of a Q5_0 or Q5_1 block: bit c of each fifth-bit byte belongs to the low nibble, bit 4 + c
    /// to the high one, each moved to bit 4 by a 16-bit shift of at most four places (which keeps it inside its own byte).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FifthBitChunk<TTile>(byte* chunks, [ConstantExpected] int c, Vector256<ushort> bits, Vector256<byte> mask, Vector256<byte> fifth,
        sbyte* a, nint codes1, nint codes2, nint codes3,
        ref Vector256<short> s0, ref Vector256<short> s1, ref Vector256<short> s2, ref Vector256<short> s3) where TTile : struct, ITokenTile
    {
        var packed = Vector256.Load(chunks + c * ChunkBytes);
        var low = (packed & mask) | (Vector256.ShiftLeft(bits, 4 - c).AsByte() & fifth);
        var high = (Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask) | (Vector256.ShiftRightLogical(bits, c).AsByte() & fifth);
        AddNibblePairs<TTile>(low, high, a + 4 * c, codes1, codes2, codes3, ref s0, ref s1, ref s2, ref s3);
    }

    /// <summary>
    /// <see cref="DotQ4_0{TTile}"/> for an IQ4_NL group (Q4_0's layout): each chunk's nibbles are looked up in the grid
    /// (vpshufb) once, giving signed codes up to 127 in magnitude, which meet each token as Q8_0's do (the activations
    /// take the codes' signs, then vpmaddubsw, each half widened by vpmaddwd before it is added).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotIq4Nl<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var grid = Vector256.Create(Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113));
        var mask = Vector256.Create((byte)0x0f);
        var ones = Vector256.Create((short)1);
        nint codes1 = codeStride, codes2 = 2 * codes1, codes3 = 3 * codes1;
        nint scales1 = scaleStride, scales2 = 2 * scales1, scales3 = 3 * scales1;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += Q4_0BlockBytes, a += Block, scales++)
        {
            StreamPrefetch.Ahead(w, Q4_0BlockBytes);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            GridChunk<TTile>(w, 0, grid, mask, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            GridChunk<TTile>(w, 1, grid, mask, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            GridChunk<TTile>(w, 2, grid, mask, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            GridChunk<TTile>(w, 3, grid, mask, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            AddBlocks<TTile>(ref f0, ref f1, ref f2, ref f3, i0, i1, i2, i3, RowScales(w), scales, scales1, scales2, scales3);
        }
        StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>Chunk <paramref name="c"/> of an IQ4_NL block: its grid values and their magnitudes taken once, then met by every token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GridChunk<TTile>(byte* w, int c, Vector256<sbyte> grid, Vector256<byte> mask, Vector256<short> ones, sbyte* a,
        nint codes1, nint codes2, nint codes3, ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3)
        where TTile : struct, ITokenTile
    {
        var packed = Vector256.Load(w + ScaleBytes + c * ChunkBytes);
        var low = Avx2.Shuffle(grid, (packed & mask).AsSByte());
        var high = Avx2.Shuffle(grid, (Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask).AsSByte());
        AddSignedChunks<TTile>(low, Avx2.Abs(low), a + 4 * c, ones, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
        AddSignedChunks<TTile>(high, Avx2.Abs(high), a + 4 * c + Block / 2, ones, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
    }

    /// <summary>
    /// <see cref="DotQ4_0{TTile}"/> for a Q8_0 group, whose codes stay signed: each chunk's magnitudes are taken once
    /// for all tokens, and each token's broadcast activations take the codes' signs (vpsignb) before vpmaddubsw. A
    /// magnitude of at most 128 times an activation of at most 127, two at a time, fills 16 bits, so every product pair
    /// is widened (vpmaddwd) before it is added; the sums are exact.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void DotQ8_0<TTile>(byte* w, int blocks, sbyte* a, int codeStride, float* scales, int scaleStride,
        float* y, int yStride) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        var ones = Vector256.Create((short)1);
        nint codes1 = codeStride, codes2 = 2 * codes1, codes3 = 3 * codes1;
        nint scales1 = scaleStride, scales2 = 2 * scales1, scales3 = 3 * scales1;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++, w += Q8_0BlockBytes, a += Block, scales++)
        {
            StreamPrefetch.Ahead(w, Q8_0BlockBytes);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            SignedChunk<TTile>(w, 0, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 1, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 2, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 3, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 4, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 5, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 6, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            SignedChunk<TTile>(w, 7, ones, a, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
            AddBlocks<TTile>(ref f0, ref f1, ref f2, ref f3, i0, i1, i2, i3, RowScales(w), scales, scales1, scales2, scales3);
        }
        StoreTile(f0, f1, f2, f3, n, y, yStride);
    }

    /// <summary>Chunk <paramref name="c"/> of a Q8_0 block: its magnitudes taken once, then met by every token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SignedChunk<TTile>(byte* w, int c, Vector256<short> ones, sbyte* a, nint codes1, nint codes2, nint codes3,
        ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3) where TTile : struct, ITokenTile
    {
        var codes = Vector256.Load((sbyte*)w + ScaleBytes + c * ChunkBytes);
        AddSignedChunks<TTile>(codes, Avx2.Abs(codes), a + 4 * c, ones, codes1, codes2, codes3, ref i0, ref i1, ref i2, ref i3);
    }

    /// <summary>Each token's products with a chunk of signed codes (<see cref="SignedChunk(Vector256{sbyte}, Vector256{byte}, sbyte*, Vector256{short})"/>) added to its sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSignedChunks<TTile>(Vector256<sbyte> codes, Vector256<byte> magnitudes, sbyte* a, Vector256<short> ones,
        nint codes1, nint codes2, nint codes3, ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3)
        where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        i0 += SignedChunk(codes, magnitudes, a, ones);
        if (n > 1) i1 += SignedChunk(codes, magnitudes, a + codes1, ones);
        if (n > 2)
        {
            i2 += SignedChunk(codes, magnitudes, a + codes2, ones);
            i3 += SignedChunk(codes, magnitudes, a + codes3, ones);
        }
    }

    /// <summary>Each token's block of signed codes into its accumulator (<see cref="AddBlock(Vector256{float}, Vector256{int}, Vector256{float}, float*)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddBlocks<TTile>(ref Vector256<float> f0, ref Vector256<float> f1, ref Vector256<float> f2, ref Vector256<float> f3,
        Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3, Vector256<float> d, float* scales,
        nint scales1, nint scales2, nint scales3) where TTile : struct, ITokenTile
    {
        int n = TTile.Count;
        f0 = AddBlock(f0, i0, d, scales);
        if (n > 1) f1 = AddBlock(f1, i1, d, scales + scales1);
        if (n > 2)
        {
            f2 = AddBlock(f2, i2, d, scales + scales2);
            f3 = AddBlock(f3, i3, d, scales + scales3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SignedChunk(Vector256<sbyte> codes, Vector256<byte> magnitudes, sbyte* a, Vector256<short> ones) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(Broadcast(a), codes)), ones);

    /// <summary>Four activation bytes at <paramref name="a"/> in every 32-bit lane (one vpbroadcastd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* a) => Vector256.Create(*(int*)a).AsSByte();

    /// <summary>Low nibbles times elements 4c… of the block, high nibbles times elements 16 + 4c…, as 16-bit pair sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> NibblePair(Vector256<byte> low, Vector256<byte> high, sbyte* a) =>
        Avx2.MultiplyAddAdjacent(low, Broadcast(a)) + Avx2.MultiplyAddAdjacent(high, Broadcast(a + Block / 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Widen(Vector256<short> sums) => Avx2.MultiplyAddAdjacent(sums, Vector256.Create((short)1));

    /// <summary>The eight row scales of a block, from the fp16 values that open it (finite: <see cref="Int8Repack"/> checks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RowScales(byte* w) => HalfFloat.FiniteToSingle(Avx2.ConvertToVector256Int32((ushort*)w).AsUInt32());

    /// <summary>acc + d_w·d_a·Σw·a for one block of eight rows and one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<float> d, float* scale) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), d * Vector256.Create(*scale), acc);

    /// <summary>
    /// acc + d_w·d_a·Σu·a − offset·(d_a·Σa) for one Q4_0, Q5_0 or Q5_1 block of eight rows and one token: the codes
    /// u = w + 8 (w + 16) as stored, offset = 8·d_w (16·d_w); Q5_1's offset is −m.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddBlock(Vector256<float> acc, Vector256<int> dot, Vector256<float> d, Vector256<float> offset,
        float* scale, float* sum) =>
        Fma.MultiplyAddNegated(offset, Vector256.Create(*sum), AddBlock(acc, dot, d, scale));

    /// <summary>The eight rows' results of the first <paramref name="n"/> tokens, token t at y + t·yStride (every repacked kernel's last step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreTile(Vector256<float> f0, Vector256<float> f1, Vector256<float> f2, Vector256<float> f3, int n, float* y, int yStride)
    {
        f0.Store(y);
        if (n > 1) f1.Store(y + yStride);
        if (n > 2)
        {
            f2.Store(y + 2 * yStride);
            f3.Store(y + 3 * yStride);
        }
    }
}
