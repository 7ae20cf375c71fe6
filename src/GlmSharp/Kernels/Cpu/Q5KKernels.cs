using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q5_K rows on 256-bit vectors: Q4_K's kernels with each nibble's fifth bit put back from the block's 32 qh bytes.
/// Codes 0–31 keep pmaddubsw's pair sums below 2¹⁵ (2·31·127 = 7 874), so decode multiplies the stored block as
/// <see cref="KQuantKernels.DotQ4_K"/> does, and prefill unpacks each 32-value sub-block into an int8 block with a
/// scale d·scale and an offset dmin·min for the tile Q4_K uses.
/// </summary>
internal static unsafe class Q5KKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, GroupsPerSuperBlock = SuperBlock / ScalarKQuantKernels.Group;
    private const int HighBits = 16, Nibbles = 48;

    /// <summary>
    /// The 5-bit codes of 64-value chunk c of a block, its two sub-blocks in element order. <paramref name="high"/>
    /// is qh shifted right by 2c in 16-bit lanes: the bits it moves across a byte boundary land above bit 1, which
    /// is all the two shifts below keep.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) Codes(byte* block, int chunk, Vector256<ushort> high)
    {
        var nibble = Vector256.Create((byte)0x0f);
        var fifth = Vector256.Create((byte)0x10);
        var q = Vector256.Load(block + Nibbles + 32 * chunk);
        return ((q & nibble) | (Vector256.ShiftLeft(high, 4).AsByte() & fifth),
            (Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & nibble) | (Vector256.ShiftLeft(high, 3).AsByte() & fifth));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotQ5_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float* table = HalfFloat.TablePointer;
        var ones = Vector256.Create((short)1);
        var patterns = stackalloc Vector256<byte>[8];
        for (int j = 0; j < 8; j++) patterns[j] = Vector256.Create((ushort)(2 * j | (2 * j + 1) << 8)).AsByte();
        Vector256<float> acc = default, minAcc = default;
        for (int b = 0; b < superBlocks; b++, w += ScalarKQuantKernels.Q5_KBytes, a += SuperBlock, sums += GroupsPerSuperBlock)
        {
            StreamPrefetch.Ahead(w, ScalarKQuantKernels.Q5_KBytes);
            var (scales, mins) = KQuantKernels.Q4ScalesAndMins(w + 4);
            var wideScales = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(scales).AsByte()).AsByte();
            var bothScales = Vector256.Create(wideScales, wideScales);
            var high = Vector256.Load(w + HighBits).AsUInt16();
            // Four accumulators, as in DotQ4_K: one chain of dependent multiply-adds per block is latency-bound.
            Vector256<int> dot0 = default, dot1 = default, dot2 = default, dot3 = default;
            for (int chunk = 0; chunk < 4; chunk += 2)
            {
                var (u0, u1) = Codes(w, chunk, high);
                dot0 = KQuantKernels.ScaledDot(dot0, u0, a + 64 * chunk, Avx2.Shuffle(bothScales, patterns[2 * chunk]).AsInt16());
                dot1 = KQuantKernels.ScaledDot(dot1, u1, a + 64 * chunk + 32, Avx2.Shuffle(bothScales, patterns[2 * chunk + 1]).AsInt16());
                var (u2, u3) = Codes(w, chunk + 1, Vector256.ShiftRightLogical(high, 2));
                dot2 = KQuantKernels.ScaledDot(dot2, u2, a + 64 * chunk + 64, Avx2.Shuffle(bothScales, patterns[2 * chunk + 2]).AsInt16());
                dot3 = KQuantKernels.ScaledDot(dot3, u3, a + 64 * chunk + 96, Avx2.Shuffle(bothScales, patterns[2 * chunk + 3]).AsInt16());
                high = Vector256.ShiftRightLogical(high, 4);
            }
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
    /// A Q5_K row in <see cref="Int8Kernels.Unpack"/>'s form for the prefill tile: its eight 32-value sub-blocks per
    /// super-block become blocks with w = (d·scale)·u − dmin·min, which is how Q5_K decodes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UnpackGrouped(byte* w, int superBlocks, byte* u, float* scales, float* offsets)
    {
        float* table = HalfFloat.TablePointer;
        Span<Vector256<int>> blocks = stackalloc Vector256<int>[Int8Kernels.GroupBlocks];
        for (int b = 0; b < superBlocks; b++)
        {
            byte* block = w + (long)b * ScalarKQuantKernels.Q5_KBytes;
            var (subScales, subMins) = KQuantKernels.Q4ScalesAndMins(block + 4);
            float d = table[*(ushort*)block], dmin = table[*(ushort*)(block + 2)];
            var high = Vector256.Load(block + HighBits).AsUInt16();
            for (int chunk = 0; chunk < 4; chunk++, high = Vector256.ShiftRightLogical(high, 2))
            {
                var (low, upper) = Codes(block, chunk, high);
                blocks[2 * chunk] = low.AsInt32();
                blocks[2 * chunk + 1] = upper.AsInt32();
            }
            for (int j = 0; j < Int8Kernels.GroupBlocks; j++)
            {
                scales[8 * b + j] = d * (byte)(subScales >> (8 * j));
                offsets[8 * b + j] = dmin * (byte)(subMins >> (8 * j));
            }
            Int8Kernels.StoreTransposed(blocks, (int*)(u + b * Int8Kernels.GroupBytes));
        }
    }
}
