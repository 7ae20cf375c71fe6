using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// A row of Q8_0 blocks read as fp32: the 8 or 16 bytes of a register are sign-extended, converted and multiplied by
/// their block's scale. A register never straddles two blocks because k is a multiple of the register width and the
/// 32-value block is a multiple of both widths. The wide loads are x86 (pmovsxbd): only the AVX paths call them.
/// </summary>
internal unsafe struct Q8_0RowLoad : IVectorLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Block(byte* row, int k) => row + (k / Q8_0.BlockSize) * Q8_0.BytesPerBlock;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scalar(byte* row, int k)
    {
        byte* block = Block(row, k);
        return HalfFloat.ToSingle(*(ushort*)block) * ((sbyte*)block)[2 + k % Q8_0.BlockSize];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int k)
    {
        byte* block = Block(row, k);
        var quants = Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)block + 2 + k % Q8_0.BlockSize));
        return Vector512.ConvertToSingle(quants) * HalfFloat.ToSingle(*(ushort*)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int k)
    {
        byte* block = Block(row, k);
        var quants = Avx2.ConvertToVector256Int32((sbyte*)block + 2 + k % Q8_0.BlockSize);
        return Vector256.ConvertToSingle(quants) * HalfFloat.ToSingle(*(ushort*)block);
    }
}
