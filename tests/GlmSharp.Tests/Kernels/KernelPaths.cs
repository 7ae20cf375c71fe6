using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

/// <summary>Theory data of kernel paths: those of the given ones this CPU can run.</summary>
internal static class KernelPaths
{
    public static TheoryData<CpuIsa> Supported(params CpuIsa[] paths)
    {
        var data = new TheoryData<CpuIsa>();
        foreach (var isa in paths)
            if (CpuIsaSupport.IsSupported(isa)) data.Add(isa);
        return data;
    }
}
