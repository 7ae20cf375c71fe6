using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

/// <summary>IQ4_XS's scale unpacking without BMI2 (matrix products: <see cref="KQuantKernelTests"/>, <see cref="LowBitKQuantKernelTests"/>).</summary>
public sealed class IqKernelTests
{
    [Fact]
    public void Iq4_Xs_Scale_Spreading_Without_Bmi2_Equals_Pdep()
    {
        Assert.True(System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported, "no BMI2 on this machine: nothing to compare with");
        var random = new Random(3);
        for (int i = 0; i < 1000; i++)
        {
            uint low = (uint)random.NextInt64(1L << 32), high = (uint)random.Next(1 << 16);
            ulong pdep = System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitDeposit(low, 0x0F0F0F0F0F0F0F0Ful)
                | System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitDeposit(high, 0x3030303030303030ul);
            Assert.Equal(pdep, IqSubBlockKernels.SpreadScales(low, high));
        }
    }
}
