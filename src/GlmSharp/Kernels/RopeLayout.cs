namespace GlmSharp.Kernels;

/// <summary>How the rotated dimensions of a head are paired.</summary>
public enum RopeLayout
{
    /// <summary>GPT-J / ggml "NORM": pairs (x[2i], x[2i+1]). GLM, GLM-4 and GLM-4.1V (HF weights) use this.</summary>
    AdjacentPairs,

    /// <summary>
    /// GPT-NeoX: pairs (x[i], x[i + R/2]). GLM-4.5 (glm4_moe) uses this, and so does llama.cpp's M-RoPE, whose converter
    /// permutes GLM-4.1V's q/k rows into this order.
    /// </summary>
    SplitHalves,
}
