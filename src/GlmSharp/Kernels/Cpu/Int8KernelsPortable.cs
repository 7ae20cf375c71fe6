using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q8_0 / Q4_0 dots on 128-bit vectors for hardware without the x86 paths (Arm64 AdvSimd, SSE-only x64): bytes widened
/// to 16 bits, multiplied (|w·a| ≤ 128·127 fits), widened again and added. 128 bits rather than
/// <see cref="System.Numerics.Vector{T}"/>: a Q4_0 block holds exactly 16 packed bytes, and a fixed width keeps each
/// vector inside one block whatever size Vector&lt;T&gt; has. Activations are in <see cref="ActivationLayout.Natural"/>.
/// </summary>
internal static unsafe class Int8KernelsPortable
{
    private const int Block = Int8Kernels.Block;
    private const int Q8_0Bytes = 34, Q4_0Bytes = 18;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Dot(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        var (wLow, wHigh) = Vector128.Widen(w);
        var (aLow, aHigh) = Vector128.Widen(a);
        var (p0, p1) = Vector128.Widen(wLow * aLow);
        var (p2, p3) = Vector128.Widen(wHigh * aHigh);
        return (p0 + p1) + (p2 + p3);
    }

    /// <summary>Σ_b d_w·d_a·Σ w·a over one stored Q8_0 or Q4_0 row and one activation row, as <see cref="ScalarKernels.DotQuantizedRow"/>.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotRow(bool q4, byte* w, sbyte* q, float* scales, int blocks)
    {
        float* table = HalfFloat.TablePointer;
        var mask = Vector128.Create((byte)0x0f);
        var eight = Vector128.Create((sbyte)8);
        Vector128<float> acc = default;
        int blockBytes = q4 ? Q4_0Bytes : Q8_0Bytes;
        for (int b = 0; b < blocks; b++, w += blockBytes, q += Block)
        {
            Vector128<int> i;
            if (q4)
            {
                var packed = Vector128.Load(w + 2);
                var low = (packed & mask).AsSByte() - eight;
                var high = (Vector128.ShiftRightLogical(packed, 4) & mask).AsSByte() - eight;
                i = Dot(low, Vector128.Load(q)) + Dot(high, Vector128.Load(q + 16));
            }
            else
                i = Dot(Vector128.Load((sbyte*)w + 2), Vector128.Load(q)) + Dot(Vector128.Load((sbyte*)w + 18), Vector128.Load(q + 16));
            // No fused multiply-add: hardware without FMA would emulate it slowly.
            acc += Vector128.ConvertToSingle(i) * Vector128.Create(table[*(ushort*)w] * scales[b]);
        }
        return Vector128.Sum(acc);
    }
}
