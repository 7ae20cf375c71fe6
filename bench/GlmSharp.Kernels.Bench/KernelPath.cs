using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Kernels.Bench;

/// <summary>
/// A kernel choice to time: an ISA and, optionally, the int8 kernels to use with it (written "Avx512/Avx512BW"); with a
/// ":stored" suffix the weights are multiplied as stored, without the backend's <see cref="CpuBackend.PrepareMatrix"/>.
/// </summary>
internal readonly record struct KernelPath(CpuIsa Isa, Int8Path? Int8, bool Stored = false)
{
    private const string StoredSuffix = ":stored";

    public static KernelPath Parse(string text)
    {
        bool stored = text.EndsWith(StoredSuffix, StringComparison.OrdinalIgnoreCase);
        if (stored) text = text[..^StoredSuffix.Length];
        var parts = text.Split('/');
        if (parts.Length > 2 || !Enum.TryParse<CpuIsa>(parts[0], ignoreCase: true, out var isa))
            throw new ArgumentException($"kernel path '{text}': expected ISA[/INT8] with ISA one of {string.Join(", ", Enum.GetNames<CpuIsa>())}");
        if (parts.Length == 1) return new KernelPath(isa, null, stored);
        if (!Enum.TryParse<Int8Path>(parts[1], ignoreCase: true, out var int8))
            throw new ArgumentException($"kernel path '{text}': int8 kernels '{parts[1]}' are not one of {string.Join(", ", Enum.GetNames<Int8Path>())}");
        return new KernelPath(isa, int8, stored);
    }

    public CpuBackend CreateBackend(int threads) => new(threads, Isa, Int8);

    public override string ToString() => $"{Isa}/{Int8 ?? Int8Paths.For(Isa)}{(Stored ? StoredSuffix : "")}";
}
