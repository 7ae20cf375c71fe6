using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// How a row of some element type widens to fp32 at element k, one value or one register at a time. Kernels are
/// generic over a struct implementing this, so the JIT compiles one specialised loop per type with the conversion inlined.
/// </summary>
internal unsafe interface IVectorLoad
{
    static abstract float Scalar(byte* row, int k);
    static abstract Vector512<float> Load512(byte* row, int k);
    static abstract Vector256<float> Load256(byte* row, int k);
}

/// <summary>A float-like weight element type (one fixed size per element), which also loads for the portable kernels.</summary>
internal unsafe interface IFloatLoad : IVectorLoad
{
    static abstract int ElementBytes { get; }
    /// <summary>Two vectors: elements k … k + 2·Vector&lt;float&gt;.Count − 1.</summary>
    static abstract void LoadPortable(byte* row, int k, out Vector<float> low, out Vector<float> high);
}

internal unsafe struct F32Load : IFloatLoad
{
    public static int ElementBytes => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(byte* row, int k) => ((float*)row)[k];
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load512(byte* row, int k) => Vector512.Load((float*)row + k);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load256(byte* row, int k) => Vector256.Load((float*)row + k);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPortable(byte* row, int k, out Vector<float> low, out Vector<float> high)
    {
        low = Vector.Load((float*)row + k);
        high = Vector.Load((float*)row + k + Vector<float>.Count);
    }
}

internal unsafe struct F16Load : IFloatLoad
{
    public static int ElementBytes => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(byte* row, int k) => HalfFloat.ToSingle(((ushort*)row)[k]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int k) => HalfFloat.ToSingle(Vector512.WidenLower(Vector256.Load((ushort*)row + k).ToVector512Unsafe()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int k) => HalfFloat.ToSingle(Vector256.WidenLower(Vector128.Load((ushort*)row + k).ToVector256Unsafe()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPortable(byte* row, int k, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)row + k), out var lowBits, out var highBits);
        low = HalfFloat.ToSingle(lowBits);
        high = HalfFloat.ToSingle(highBits);
    }
}

internal unsafe struct Bf16Load : IFloatLoad
{
    public static int ElementBytes => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(byte* row, int k) => Bf16.ToFloat(((ushort*)row)[k]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int k) => (Vector512.WidenLower(Vector256.Load((ushort*)row + k).ToVector512Unsafe()) << 16).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int k) => (Vector256.WidenLower(Vector128.Load((ushort*)row + k).ToVector256Unsafe()) << 16).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPortable(byte* row, int k, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)row + k), out var lowBits, out var highBits);
        low = Vector.AsVectorSingle(lowBits << 16);
        high = Vector.AsVectorSingle(highBits << 16);
    }
}

/// <summary>
/// F16 bits moved into float position without re-biasing the exponent: the value times 2⁻¹¹². A dot product of
/// these with activations pre-scaled by 2¹⁰⁰, rescaled by 2¹² at the end, needs four integer operations per
/// vector instead of the exact conversion's nine. Infinities and NaNs come out as large finite values, so this is
/// for finite weights only; the activation scaling is exact for |x| below 2²⁷.
/// </summary>
internal unsafe struct F16UnbiasedLoad : IFloatLoad
{
    public const float ActivationScale = 1.2676506002282294e30f; // 2^100
    public const float ResultScale = 4096f;                      // 2^12

    public static int ElementBytes => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* row, int k)
    {
        uint bits = ((ushort*)row)[k];
        return BitConverter.UInt32BitsToSingle(((bits & 0x7fffu) << 13) | ((bits & 0x8000u) << 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int k)
    {
        var shifted = (Vector512.WidenLower(Vector256.Load((ushort*)row + k).ToVector512Unsafe()) << 16).AsInt32();
        return (Vector512.ShiftRightArithmetic(shifted, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int k)
    {
        var shifted = (Vector256.WidenLower(Vector128.Load((ushort*)row + k).ToVector256Unsafe()) << 16).AsInt32();
        return (Vector256.ShiftRightArithmetic(shifted, 3) & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadPortable(byte* row, int k, out Vector<float> low, out Vector<float> high)
    {
        Vector.Widen(Vector.Load((ushort*)row + k), out var lowBits, out var highBits);
        low = Vector.AsVectorSingle(Vector.ShiftRightArithmetic(Vector.AsVectorInt32(lowBits << 16), 3) & new Vector<int>(unchecked((int)0x8FFFE000)));
        high = Vector.AsVectorSingle(Vector.ShiftRightArithmetic(Vector.AsVectorInt32(highBits << 16), 3) & new Vector<int>(unchecked((int)0x8FFFE000)));
    }
}
