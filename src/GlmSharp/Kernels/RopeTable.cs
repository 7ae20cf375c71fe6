namespace GlmSharp.Kernels;

/// <summary>How the rotated dimensions of a head are paired.</summary>
public enum RopeLayout
{
    /// <summary>GPT-J / ggml "NORM": pairs (x[2i], x[2i+1]). GLM, GLM-4 and GLM-4V use this.</summary>
    AdjacentPairs,

    /// <summary>GPT-NeoX: pairs (x[i], x[i + R/2]). GLM-4.5 (glm4_moe) uses this.</summary>
    SplitHalves,
}

/// <summary>
/// Rotary position embedding of one model: which dims rotate, how they pair and their frequencies.
/// Frequencies follow theta^(-2i/R) with R the rotated width, not the head width (partial rotary).
/// </summary>
public sealed class RopeTable
{
    public RopeLayout Layout { get; }
    public int RotaryDims { get; }
    public double Theta { get; }

    /// <summary>inv_freq[i] = theta^(-2i/R), i in [0, R/2).</summary>
    public float[] InverseFrequencies { get; }

    public RopeTable(RopeLayout layout, int rotaryDims, double theta)
    {
        if (rotaryDims <= 0 || rotaryDims % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(rotaryDims), rotaryDims, "rotary dims must be positive and even");
        Layout = layout;
        RotaryDims = rotaryDims;
        Theta = theta;
        InverseFrequencies = new float[rotaryDims / 2];
        for (int i = 0; i < InverseFrequencies.Length; i++)
            InverseFrequencies[i] = (float)Math.Pow(theta, -2.0 * i / rotaryDims);
    }

    /// <summary>Rotates one head vector (length ≥ RotaryDims) at the given position.</summary>
    public void Apply(Span<float> head, int position)
    {
        Span<float> cos = stackalloc float[RotaryDims / 2];
        Span<float> sin = stackalloc float[RotaryDims / 2];
        Angles(position, cos, sin);
        Apply(head, cos, sin);
    }

    /// <summary>cos and sin of every rotated pair's angle at a position (RotaryDims / 2 values each), to be shared by all heads.</summary>
    public void Angles(int position, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < RotaryDims / 2; i++)
        {
            double angle = position * (double)InverseFrequencies[i];
            cos[i] = (float)Math.Cos(angle);
            sin[i] = (float)Math.Sin(angle);
        }
    }

    /// <summary>Rotates one head vector by angles from <see cref="Angles"/>.</summary>
    public void Apply(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = RotaryDims / 2;
        for (int i = 0; i < half; i++)
        {
            (int a, int b) = Layout == RopeLayout.AdjacentPairs ? (2 * i, 2 * i + 1) : (i, i + half);
            float x0 = head[a], x1 = head[b];
            head[a] = x0 * cos[i] - x1 * sin[i];
            head[b] = x1 * cos[i] + x0 * sin[i];
        }
    }
}
