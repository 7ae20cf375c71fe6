namespace GlmSharp.Kernels.Cpu;

/// <summary>How quantized activation codes are laid out in memory; each weight kernel reads the one it needs.</summary>
internal enum ActivationLayout
{
    /// <summary>Blocks of 32 codes in element order.</summary>
    Natural,

    /// <summary>Per pair of blocks: elements 0–15 of both, then elements 16–31 of both, matching Q4_0's nibble packing.
    /// A last unpaired block stays in element order.</summary>
    NibblePairs,

    /// <summary>Per group of eight blocks: 4-byte chunk s of every block side by side (see <see cref="Int8Kernels"/>).</summary>
    Grouped,
}
