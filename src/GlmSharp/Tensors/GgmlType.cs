namespace GlmSharp.Tensors;

/// <summary>Tensor element types, numbered as in GGUF files (ggml's type enum) so the value is written to disk unchanged.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    MXFP4 = 39,
    NVFP4 = 40,

    /// <summary>
    /// GlmSharp's own id, outside ggml's range: FP8 E4M3 weights of a Hugging Face FP8 checkpoint, one byte each,
    /// multiplied by the block scales in <see cref="TensorView.Scales"/>. GGUF files never hold it (see
    /// <see cref="GgmlTypeInfo.IsGgufType"/>).
    /// </summary>
    F8_E4M3 = 0x1000,

    /// <summary>
    /// GlmSharp's own id for a Q4_0 matrix a CPU backend repacked at load (see <see cref="GgmlTypeInfo.IsRepacked"/>):
    /// the same blocks, eight rows interleaved. It lives in memory only; no file holds it.
    /// </summary>
    Q4_0x8 = 0x1001,

    /// <summary>A Q8_0 matrix repacked at load, as <see cref="Q4_0x8"/>; in memory only.</summary>
    Q8_0x8 = 0x1002,

    /// <summary>A Q4_K matrix repacked at load, eight rows interleaved per super-block; in memory only.</summary>
    Q4_Kx8 = 0x1003,

    /// <summary>A Q5_0 matrix repacked at load, eight rows interleaved per block with the fifth bits re-ordered; in memory only.</summary>
    Q5_0x8 = 0x1004,

    /// <summary>An IQ4_NL matrix repacked at load, in the layout of <see cref="Q4_0x8"/>; in memory only.</summary>
    IQ4_NLx8 = 0x1005,

    /// <summary>A Q6_K matrix repacked at load, eight rows interleaved per super-block with each code in one byte-plane lane; in memory only.</summary>
    Q6_Kx8 = 0x1006,

    /// <summary>A Q5_K matrix repacked at load as <see cref="Q4_Kx8"/>, its fifth bits interleaved the same way; in memory only.</summary>
    Q5_Kx8 = 0x1007,

    /// <summary>A Q5_1 matrix repacked at load as <see cref="Q5_0x8"/>, with the eight rows' mins after their scales; in memory only.</summary>
    Q5_1x8 = 0x1008,
}
