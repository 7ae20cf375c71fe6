using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

/// <summary>The IQ kernels' bit spreading without BMI2 (matrix products: <see cref="KQuantKernelTests"/>, <see cref="LowBitKQuantKernelTests"/>).</summary>
public sealed class IqKernelTests
{
    [Fact]
    public void Software_Deposit_Equals_Pdep()
    {
        Assert.True(System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported, "no BMI2 on this machine: nothing to compare with");
        var random = new Random(3);
        ulong[] masks = [0x0F0F0F0F0F0F0F0Ful, 0x3030303030303030ul, 0x00FF00FF00FF00FFul, 0x0100010001000100ul, 0, ulong.MaxValue];
        for (int i = 0; i < 1000; i++)
        {
            ulong value = (ulong)random.NextInt64(), mask = i < masks.Length ? masks[i] : (ulong)random.NextInt64();
            Assert.Equal(System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitDeposit(value, mask), IqTables.DepositInSoftware(value, mask));
        }
    }
}
