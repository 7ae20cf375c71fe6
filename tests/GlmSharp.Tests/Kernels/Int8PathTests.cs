using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

public sealed class Int8PathTests
{
    [Fact]
    public void Default_Int8_Path_Of_Every_Supported_Isa_Runs_On_This_Cpu()
    {
        foreach (var isa in Enum.GetValues<CpuIsa>().Where(CpuIsaSupport.IsSupported))
        {
            var path = Int8Paths.For(isa);
            Assert.True(Int8Paths.IsSupported(path), $"{isa} defaults to {path}, which this CPU cannot run");
            Assert.True(Int8Paths.MinimumIsa(path) <= isa, $"{isa} defaults to {path}, which needs {Int8Paths.MinimumIsa(path)}");
        }
    }

    [Fact]
    public void Avx512_With_Vnni_Takes_The_512_Bit_Tile_Only_For_Q4_0_Prefill()
    {
        Assert.Equal(Int8Path.Avx512BW, Int8Paths.Resolve(Int8Path.Avx512WithVnni, GgmlType.Q4_0, prefill: true));
        Assert.Equal(Int8Path.AvxVnni256, Int8Paths.Resolve(Int8Path.Avx512WithVnni, GgmlType.Q4_0, prefill: false));
        Assert.Equal(Int8Path.AvxVnni256, Int8Paths.Resolve(Int8Path.Avx512WithVnni, GgmlType.Q8_0, prefill: true));
        Assert.Equal(Int8Path.AvxVnni256, Int8Paths.Resolve(Int8Path.Avx512WithVnni, GgmlType.Q8_0, prefill: false));
        foreach (var path in Enum.GetValues<Int8Path>().Where(p => p != Int8Path.Avx512WithVnni))
            Assert.Equal(path, Int8Paths.Resolve(path, GgmlType.Q4_0, prefill: true));
    }
}
