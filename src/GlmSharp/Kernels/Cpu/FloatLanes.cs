using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// One SIMD register of fp32 lanes, at a fixed width. <see cref="FloatKernels{TLanes}"/> is written once against this
/// and the JIT specialises it per width, with every member inlined to the single instruction it wraps.
/// </summary>
internal unsafe interface IFloatLanes<TSelf> where TSelf : struct, IFloatLanes<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Load(float* source);
    static abstract TSelf Load<TLoad>(byte* row, int k) where TLoad : IVectorLoad;
    static abstract TSelf Broadcast(float value);
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf addend);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Multiply(TSelf a, TSelf b);
    static abstract TSelf Max(TSelf a, TSelf b);
    static abstract float Sum(TSelf lanes);
    /// <summary>The sums of four registers at once: a horizontal-add tree shares the shuffles that four separate sums repeat.</summary>
    static abstract Vector128<float> Sum4(TSelf a, TSelf b, TSelf c, TSelf d);
    static abstract void Store(TSelf lanes, float* destination);
}

internal readonly unsafe struct Lanes512(Vector512<float> value) : IFloatLanes<Lanes512>
{
    private readonly Vector512<float> _value = value;

    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(float* source) => new(Vector512.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load<TLoad>(byte* row, int k) where TLoad : IVectorLoad => new(TLoad.Load512(row, k));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Broadcast(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 addend) => new(Vector512.FusedMultiplyAdd(a._value, b._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Add(Lanes512 a, Lanes512 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Multiply(Lanes512 a, Lanes512 b) => new(a._value * b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.Max(a._value, b._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes512 lanes) => Vector512.Sum(lanes._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Lanes512 a, Lanes512 b, Lanes512 c, Lanes512 d) =>
        Lanes256.Sum4(Half(a), Half(b), Half(c), Half(d));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes256 Half(Lanes512 lanes) => new(lanes._value.GetLower() + lanes._value.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes512 lanes, float* destination) => lanes._value.Store(destination);
}

internal readonly unsafe struct Lanes256(Vector256<float> value) : IFloatLanes<Lanes256>
{
    private readonly Vector256<float> _value = value;

    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load(float* source) => new(Vector256.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load<TLoad>(byte* row, int k) where TLoad : IVectorLoad => new(TLoad.Load256(row, k));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Broadcast(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 addend) => new(Vector256.FusedMultiplyAdd(a._value, b._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Add(Lanes256 a, Lanes256 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Multiply(Lanes256 a, Lanes256 b) => new(a._value * b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.Max(a._value, b._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes256 lanes) => Vector256.Sum(lanes._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Lanes256 a, Lanes256 b, Lanes256 c, Lanes256 d)
    {
        if (!Sse3.IsSupported) return Vector128.Create(Sum(a), Sum(b), Sum(c), Sum(d));
        var ab = Sse3.HorizontalAdd(a._value.GetLower() + a._value.GetUpper(), b._value.GetLower() + b._value.GetUpper());
        var cd = Sse3.HorizontalAdd(c._value.GetLower() + c._value.GetUpper(), d._value.GetLower() + d._value.GetUpper());
        return Sse3.HorizontalAdd(ab, cd);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes256 lanes, float* destination) => lanes._value.Store(destination);
}

/// <summary>
/// One fp32 value: the scalar reference, running a width-generic kernel's arithmetic one element at a time
/// (and the path for head sizes no vector width divides).
/// </summary>
internal readonly unsafe struct Lanes1(float value) : IFloatLanes<Lanes1>
{
    private readonly float _value = value;

    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Load(float* source) => new(*source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Load<TLoad>(byte* row, int k) where TLoad : IVectorLoad => new(TLoad.Scalar(row, k));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Broadcast(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 MultiplyAdd(Lanes1 a, Lanes1 b, Lanes1 addend) => new(MathF.FusedMultiplyAdd(a._value, b._value, addend._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Add(Lanes1 a, Lanes1 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Multiply(Lanes1 a, Lanes1 b) => new(a._value * b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1 Max(Lanes1 a, Lanes1 b) => new(MathF.Max(a._value, b._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes1 lanes) => lanes._value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Lanes1 a, Lanes1 b, Lanes1 c, Lanes1 d) => Vector128.Create(a._value, b._value, c._value, d._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes1 lanes, float* destination) => *destination = lanes._value;
}
