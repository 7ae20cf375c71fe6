using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// IEEE half → float without F16C (which .NET does not expose): the 15 magnitude bits shifted into a float's
/// exponent and mantissa give the value times 2⁻¹¹², so one multiply by 2¹¹² rescales normals and subnormals
/// exactly; infinities and NaNs get the all-ones exponent back, and the sign bit is copied over.
/// </summary>
internal static class HalfFloat
{
    private const float Rescale = 5.192296858534828e33f; // 2^112
    private const uint InfinityBits = 0x7c00;

    // Block scales are converted one at a time inside int8 dot loops, where a table load (256 KiB, L2-resident)
    // is several times cheaper than the bit manipulation moving between integer and vector registers.
    private static readonly float[] Table = BuildTable();

    /// <summary>
    /// The table, for kernels to copy into a local once per call: kernels are compiled before this class is
    /// initialised, so reading the static inside a loop would repeat the initialisation check every iteration.
    /// </summary>
    public static unsafe float* TablePointer { get; } = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref Table[0]);

    private static float[] BuildTable()
    {
        var table = GC.AllocateArray<float>(65536, pinned: true);
        for (int bits = 0; bits < table.Length; bits++) table[bits] = ToSingle((ushort)bits);
        return table;
    }


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits)
    {
        uint magnitude = bits & 0x7fffu;
        uint shifted = magnitude << 13;
        float value = magnitude >= InfinityBits
            ? BitConverter.UInt32BitsToSingle(shifted | 0x7f800000u)
            : BitConverter.UInt32BitsToSingle(shifted) * Rescale;
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) | ((bits & 0x8000u) << 16));
    }

    /// <summary>16 halves, zero-extended to 32-bit lanes, to 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<uint> bits)
    {
        var magnitude = bits & Vector512.Create(0x7fffu);
        var shifted = magnitude << 13;
        var finite = shifted.AsSingle() * Vector512.Create(Rescale);
        var special = (shifted | Vector512.Create(0x7f800000u)).AsSingle();
        var value = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(InfinityBits)).AsSingle(), special, finite);
        return (value.AsUInt32() | ((bits & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>8 halves, zero-extended to 32-bit lanes, to 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<uint> bits)
    {
        var magnitude = bits & Vector256.Create(0x7fffu);
        var shifted = magnitude << 13;
        var finite = shifted.AsSingle() * Vector256.Create(Rescale);
        var special = (shifted | Vector256.Create(0x7f800000u)).AsSingle();
        var value = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(InfinityBits)).AsSingle(), special, finite);
        return (value.AsUInt32() | ((bits & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>
    /// 8 finite halves, zero-extended to 32-bit lanes, to 8 floats: <see cref="ToSingle(Vector256{uint})"/> without its
    /// infinity and NaN select, for data checked to hold none. Half the instructions, which counts where block
    /// scales are converted for every block of a multi-token tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FiniteToSingle(Vector256<uint> bits)
    {
        var magnitude = ((bits << 13) & Vector256.Create(0x7fffu << 13)).AsSingle() * Vector256.Create(Rescale);
        return (magnitude.AsUInt32() | ((bits << 16) & Vector256.Create(0x80000000u))).AsSingle();
    }

    /// <summary>Whether half <paramref name="bits"/> is an infinity or a NaN.</summary>
    public static bool IsNonFinite(ushort bits) => (bits & InfinityBits) == InfinityBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> ToSingle(Vector<uint> bits)
    {
        var magnitude = bits & new Vector<uint>(0x7fffu);
        var shifted = magnitude << 13;
        var finite = Vector.AsVectorSingle(shifted) * new Vector<float>(Rescale);
        var special = Vector.AsVectorSingle(shifted | new Vector<uint>(0x7f800000u));
        var value = Vector.ConditionalSelect(Vector.AsVectorInt32(Vector.GreaterThanOrEqual(magnitude, new Vector<uint>(InfinityBits))), special, finite);
        return Vector.AsVectorSingle(Vector.AsVectorUInt32(value) | ((bits & new Vector<uint>(0x8000u)) << 16));
    }
}
