using System.Runtime.Intrinsics;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

/// <summary>The F16C-free half → float conversion against .NET's own Half, over every one of the 65 536 bit patterns.</summary>
public sealed class HalfFloatTests
{
    private static uint Expected(int bits) => BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)bits));

    [Fact]
    public void Scalar_Conversion_Matches_System_Half_For_Every_Bit_Pattern()
    {
        for (int bits = 0; bits < 65536; bits++)
        {
            uint actual = BitConverter.SingleToUInt32Bits(HalfFloat.ToSingle((ushort)bits));
            if (float.IsNaN(BitConverter.UInt32BitsToSingle(Expected(bits)))) Assert.True(float.IsNaN(BitConverter.UInt32BitsToSingle(actual)), $"0x{bits:x4}");
            else Assert.True(Expected(bits) == actual, $"0x{bits:x4}: expected 0x{Expected(bits):x8}, got 0x{actual:x8}");
        }
    }

    [Fact]
    public void Vector_Conversions_Match_The_Scalar_One_For_Every_Bit_Pattern()
    {
        for (int start = 0; start < 65536; start += 16)
        {
            var bits = Vector512.Create(Enumerable.Range(start, 16).Select(b => (uint)b).ToArray());
            var wide = HalfFloat.ToSingle(bits);
            var narrow = HalfFloat.ToSingle(bits.GetLower());
            var portable = HalfFloat.ToSingle(new System.Numerics.Vector<uint>(Enumerable.Range(start, System.Numerics.Vector<uint>.Count).Select(b => (uint)b).ToArray()));
            for (int i = 0; i < 16; i++)
            {
                uint expected = BitConverter.SingleToUInt32Bits(HalfFloat.ToSingle((ushort)(start + i)));
                Assert.Equal(expected, BitConverter.SingleToUInt32Bits(wide[i]));
                if (i < 8) Assert.Equal(expected, BitConverter.SingleToUInt32Bits(narrow[i]));
                if (i < System.Numerics.Vector<uint>.Count) Assert.Equal(expected, BitConverter.SingleToUInt32Bits(portable[i]));
            }
        }
    }
}
