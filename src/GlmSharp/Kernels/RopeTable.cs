using GlmSharp.Configs;

namespace GlmSharp.Kernels;

/// <summary>
/// Rotary position embedding of one model: which dims rotate, how they pair, which position component drives each pair
/// and at what frequency. Only the first <see cref="RotaryDims"/> of a head rotate (partial rotary), and frequencies
/// follow theta^(-2i/R) with R the rotated width, not the head width.
/// <para>
/// Angles are computed in float exactly as ggml's CPU RoPE does: θ_scale = powf(theta, −2/R), and pair i's angle is the
/// position multiplied by θ_scale i times in turn, so the engine, the trainer and llama.cpp rotate by the same floats.
/// </para>
/// <para>
/// M-RoPE (GLM-4.1V): each row carries <see cref="PositionComponents"/> = 4 positions (temporal, height, width and
/// llama.cpp's spare fourth). <see cref="Sections"/> count frequency indices, not dims: pair i reads the component whose
/// section holds i mod Σsections, as in ggml_rope_multi and HF's mrope_section. GLM-4.1V uses [8, 12, 12, 0] over its
/// 32 pairs; text rows carry (p, p, p, 0), which rotates exactly as 1-D RoPE at p.
/// </para>
/// </summary>
public sealed class RopeTable
{
    /// <summary>llama.cpp gives every M-RoPE token four positions (t, h, w and one used only by vision encoders).</summary>
    public const int MultiSectionComponents = 4;

    private readonly float _thetaScale;
    private readonly byte[] _componentOfPair;
    private readonly Yarn? _yarn;
    private readonly int[] _sections = [];

    /// <param name="sections">M-RoPE sections (up to four, in frequency indices), or empty for 1-D positions.</param>
    /// <param name="scaling">YaRN context extension, or null for none.</param>
    public RopeTable(RopeLayout layout, int rotaryDims, double theta, ReadOnlySpan<int> sections = default, YarnScaling? scaling = null)
    {
        if (rotaryDims <= 0 || rotaryDims % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(rotaryDims), rotaryDims, "rotary dims must be positive and even");
        if (!(theta > 1))
            throw new ArgumentOutOfRangeException(nameof(theta), theta, "rope theta must be greater than 1");
        Layout = layout;
        RotaryDims = rotaryDims;
        Theta = theta;
        Scaling = scaling;
        _thetaScale = MathF.Pow((float)theta, -2f / rotaryDims);
        _componentOfPair = new byte[rotaryDims / 2];
        if (!sections.IsEmpty)
        {
            _sections = CheckedSections(sections, rotaryDims);
            AssignComponents(_sections, _componentOfPair);
        }
        PositionComponents = _sections.Length == 0 ? 1 : MultiSectionComponents;
        if (scaling is not null) _yarn = new Yarn(scaling, rotaryDims, (float)theta);
    }

    public RopeLayout Layout { get; }
    public int RotaryDims { get; }
    public double Theta { get; }

    /// <summary>M-RoPE sections padded to four entries; empty for 1-D positions.</summary>
    public IReadOnlyList<int> Sections => _sections;

    public YarnScaling? Scaling { get; }

    /// <summary>Position ints per row: 1 for text models, <see cref="MultiSectionComponents"/> for M-RoPE.</summary>
    public int PositionComponents { get; }

    /// <summary>Writes a text token's position components: p, or (p, p, p, 0) for M-RoPE as llama.cpp fills them.</summary>
    public void TextPosition(int position, Span<int> components)
    {
        CheckComponents(components.Length);
        components.Fill(position);
        if (PositionComponents == MultiSectionComponents) components[^1] = 0;
    }

    /// <summary>Rotates one head vector (length ≥ RotaryDims) at a 1-D position.</summary>
    public void Apply(Span<float> head, int position)
    {
        Span<float> cos = stackalloc float[RotaryDims / 2];
        Span<float> sin = stackalloc float[RotaryDims / 2];
        Angles(position, cos, sin);
        Apply(head, cos, sin);
    }

    /// <summary>cos and sin of every pair's angle at a 1-D position; see <see cref="Angles(ReadOnlySpan{int}, Span{float}, Span{float})"/>.</summary>
    public void Angles(int position, Span<float> cos, Span<float> sin) => Angles(new ReadOnlySpan<int>(in position), cos, sin);

    /// <summary>
    /// cos and sin of every rotated pair's angle (RotaryDims / 2 values each) at one row's position components,
    /// to be shared by all heads of that row. With YaRN both carry its magnitude scale.
    /// </summary>
    public void Angles(ReadOnlySpan<int> position, Span<float> cos, Span<float> sin)
    {
        CheckComponents(position.Length);
        Span<float> theta = stackalloc float[MultiSectionComponents];
        for (int c = 0; c < position.Length; c++) theta[c] = position[c];
        for (int i = 0; i < _componentOfPair.Length; i++)
        {
            float angle = theta[_componentOfPair[i]];
            if (_yarn is null)
            {
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }
            else _yarn.CosSin(i, angle, out cos[i], out sin[i]);
            for (int c = 0; c < position.Length; c++) theta[c] *= _thetaScale;
        }
    }

    /// <summary>Rotates one head vector by angles from <see cref="Angles(ReadOnlySpan{int}, Span{float}, Span{float})"/>.</summary>
    public void Apply(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin) => Rotate(head, cos, sin, 1f);

    /// <summary>The transpose (= inverse) rotation: RoPE's gradient, used by the trainer's backward pass.</summary>
    public void ApplyInverse(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin) => Rotate(head, cos, sin, -1f);

    private void Rotate(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, float direction)
    {
        int half = RotaryDims / 2;
        int stride = Layout == RopeLayout.AdjacentPairs ? 2 : 1;
        int partner = Layout == RopeLayout.AdjacentPairs ? 1 : half;
        for (int i = 0; i < half; i++)
        {
            int a = i * stride, b = a + partner;
            float c = cos[i], s = direction * sin[i];
            float x0 = head[a], x1 = head[b];
            head[a] = x0 * c - x1 * s;
            head[b] = x0 * s + x1 * c;
        }
    }

    private void CheckComponents(int length)
    {
        if (length != PositionComponents)
            throw new ArgumentException($"a row's position has {length} components; this RoPE takes {PositionComponents}");
    }

    private static int[] CheckedSections(ReadOnlySpan<int> sections, int rotaryDims)
    {
        int sum = 0;
        foreach (int s in sections)
        {
            if (s < 0) throw new ArgumentOutOfRangeException(nameof(sections), $"M-RoPE sections [{string.Join(", ", sections.ToArray())}] must not be negative");
            sum += s;
        }
        if (sections.Length > MultiSectionComponents || sum == 0 || sum > rotaryDims / 2)
            throw new ArgumentOutOfRangeException(nameof(sections),
                $"M-RoPE sections [{string.Join(", ", sections.ToArray())}] must be at most {MultiSectionComponents} counts with a sum in [1, {rotaryDims / 2}] (rotary pairs)");
        var padded = new int[MultiSectionComponents];
        sections.CopyTo(padded);
        return padded;
    }

    private static void AssignComponents(int[] sections, byte[] componentOfPair)
    {
        int sum = sections.Sum();
        for (int i = 0; i < componentOfPair.Length; i++)
        {
            int sector = i % sum, component = 0, end = sections[0];
            while (sector >= end) end += sections[++component];
            componentOfPair[i] = (byte)component;
        }
    }

    /// <summary>ggml's rope_yarn with ext_factor 1: its float operations in its order.</summary>
    private sealed class Yarn
    {
        private readonly float _frequencyScale;
        private readonly float _magnitude;
        private readonly float[] _extrapolation;

        public Yarn(YarnScaling s, int rotaryDims, float theta)
        {
            _frequencyScale = 1f / (float)s.Factor;
            _magnitude = 1f + 0.1f * MathF.Log(1f / _frequencyScale);
            float low = MathF.Max(0, MathF.Floor(CorrectionDim(rotaryDims, s.OriginalContext, (float)s.BetaFast, theta)));
            float high = MathF.Min(rotaryDims - 1, MathF.Ceiling(CorrectionDim(rotaryDims, s.OriginalContext, (float)s.BetaSlow, theta)));
            _extrapolation = new float[rotaryDims / 2];
            for (int i = 0; i < _extrapolation.Length; i++)
                _extrapolation[i] = 1 - MathF.Min(1, MathF.Max(0, (i - low) / MathF.Max(0.001f, high - low)));
        }

        /// <summary>The pair index whose wavelength fits <paramref name="rotations"/> turns into the original context.</summary>
        private static float CorrectionDim(int rotaryDims, int originalContext, float rotations, float theta) =>
            rotaryDims * MathF.Log(originalContext / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(theta));

        public void CosSin(int pair, float angle, out float cos, out float sin)
        {
            float interpolated = _frequencyScale * angle;
            float mix = _extrapolation[pair];
            // ggml's x86 builds compile this blend to one fused multiply-add; fusing it here gives their angle to the bit.
            float blended = MathF.FusedMultiplyAdd(interpolated, 1 - mix, angle * mix);
            cos = MathF.Cos(blended) * _magnitude;
            sin = MathF.Sin(blended) * _magnitude;
        }
    }
}
