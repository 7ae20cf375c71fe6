using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// <see cref="ScalarLegacyKernels.Dot"/> on 128-bit vectors for hardware without the x86 paths: each block's codes as
/// two vectors of signed bytes (elements 0–15 and 16–31), multiplied as <see cref="Int8KernelsPortable"/> does.
/// Activations are in <see cref="ActivationLayout.Natural"/>.
/// </summary>
internal static unsafe class LegacyQuantKernelsPortable
{
    private const int Block = Int8Kernels.Block;

    private static Vector128<byte> BitOfByte { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128); }
    private static Vector128<byte> FirstHalfBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1); }
    private static Vector128<byte> SecondHalfBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3); }
    private static Vector128<sbyte> Grid { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113); }
    private static Vector128<sbyte> DoubledE2M1 { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((sbyte)0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12); }

    [MethodImpl(KernelRoot.Options)]
    public static float Dot(GgmlType type, byte* w, sbyte* q, float* scales, float* sums, int blocks)
    {
        float* table = HalfFloat.TablePointer;
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        Vector128<float> acc = default;
        float offsets = 0;
        for (int b = 0; b < blocks; b++, w += blockBytes, q += Block)
        {
            var (first, second, d, minimum) = Codes(type, w, table);
            var i = Int8KernelsPortable.Dot(first, Vector128.Load(q)) + Int8KernelsPortable.Dot(second, Vector128.Load(q + 16));
            // No fused multiply-add: hardware without FMA would emulate it slowly.
            acc += Vector128.ConvertToSingle(i) * Vector128.Create(d * scales[b]);
            offsets += minimum * sums[b];
        }
        return Vector128.Sum(acc) + offsets;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> First, Vector128<sbyte> Second, float Scale, float Minimum) Codes(GgmlType type, byte* block, float* table)
    {
        var mask = Vector128.Create((byte)0x0f);
        float d = table[*(ushort*)block];
        switch (type)
        {
            case GgmlType.Q4_1:
            {
                var packed = Vector128.Load(block + 4);
                return ((packed & mask).AsSByte(), (Vector128.ShiftRightLogical(packed, 4) & mask).AsSByte(), d, table[*(ushort*)(block + 2)]);
            }
            case GgmlType.Q5_1:
            {
                var (first, second) = FiveBit(block + 4);
                return (first, second, d, table[*(ushort*)(block + 2)]);
            }
            case GgmlType.Q5_0:
            {
                var (first, second) = FiveBit(block + 2);
                var sixteen = Vector128.Create((sbyte)16);
                return (first - sixteen, second - sixteen, d, 0f);
            }
            case GgmlType.MXFP4:
            {
                var (first, second) = GridCodes(DoubledE2M1, block + 1);
                return (first, second, E8M0Halves.Pointer[*block], 0f);
            }
            default:
            {
                var (first, second) = GridCodes(Grid, block + 2);
                return (first, second, d, 0f);
            }
        }
    }

    /// <summary>The 4-bit indices of a block's 16 packed bytes looked up in <paramref name="grid"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> First, Vector128<sbyte> Second) GridCodes(Vector128<sbyte> grid, byte* packed)
    {
        var mask = Vector128.Create((byte)0x0f);
        var bytes = Vector128.Load(packed);
        return (Vector128.Shuffle(grid, (bytes & mask).AsSByte()), Vector128.Shuffle(grid, (Vector128.ShiftRightLogical(bytes, 4) & mask).AsSByte()));
    }

    /// <summary>The unsigned 5-bit codes of <see cref="FiveBitCodes"/> at <paramref name="codes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> First, Vector128<sbyte> Second) FiveBit(byte* codes)
    {
        var mask = Vector128.Create((byte)0x0f);
        var packed = Vector128.Load(codes + 4);
        var bits = Vector128.Create(*(uint*)codes).AsByte();
        var first = (packed & mask) | Spread(Vector128.Shuffle(bits, FirstHalfBytes));
        var second = (Vector128.ShiftRightLogical(packed, 4) & mask) | Spread(Vector128.Shuffle(bits, SecondHalfBytes));
        return (first.AsSByte(), second.AsSByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Spread(Vector128<byte> bytes) =>
        Vector128.Equals(bytes & BitOfByte, BitOfByte) & Vector128.Create((byte)16);
}
