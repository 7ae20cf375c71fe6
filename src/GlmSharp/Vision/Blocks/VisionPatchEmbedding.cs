namespace GlmSharp.Vision.Blocks;

/// <summary>
/// The tower's Conv3d patch embedding (kernel = stride = temporal × patch × patch, with bias) as the linear map it is
/// on a patch row: out = W · row + b, W flattened [hidden, channels · temporal · patch · patch] in the row's own order.
/// For a still image both temporal frames are equal, so the map equals one frame through the sum of the kernel's
/// temporal slices — what llama.cpp computes with its two 2-D kernels (v.patch_embd.weight and .1).
/// </summary>
public sealed class VisionPatchEmbedding
{
    private readonly float[] _weight;
    private readonly float[] _bias;

    public int Hidden { get; }
    public int RowLength { get; }

    /// <summary>The Conv3d weight flattened to [Hidden, RowLength].</summary>
    public float[] Weight => _weight;

    public float[] Bias => _bias;

    /// <param name="weight">Conv3d weight [hidden, channels, temporal, patch, patch], row-major.</param>
    public VisionPatchEmbedding(float[] weight, float[] bias)
    {
        Hidden = bias.Length;
        if (Hidden == 0 || weight.Length % Hidden != 0)
            throw new ArgumentException($"patch weight of {weight.Length} floats does not split into {Hidden} output rows");
        RowLength = weight.Length / Hidden;
        _weight = weight;
        _bias = bias;
    }

    /// <summary>Builds the Conv3d weight from an mmproj's two temporal kernels [hidden, channels, patch, patch].</summary>
    public static VisionPatchEmbedding FromTemporalSlices(float[] slice0, float[] slice1, float[] bias, int channels)
    {
        if (slice0.Length != slice1.Length) throw new ArgumentException("the two temporal kernels differ in size");
        int hidden = bias.Length, plane = slice0.Length / (hidden * channels);
        var weight = new float[slice0.Length * 2];
        for (int o = 0; o < hidden; o++)
            for (int c = 0; c < channels; c++)
            {
                int src = (o * channels + c) * plane, dst = ((o * channels + c) * 2) * plane;
                Array.Copy(slice0, src, weight, dst, plane);
                Array.Copy(slice1, src, weight, dst + plane, plane);
            }
        return new VisionPatchEmbedding(weight, bias);
    }

    /// <summary>Embeds every patch row: [patches, RowLength] → [patches, Hidden].</summary>
    public float[] Apply(VisionInput input)
    {
        if (input.RowLength != RowLength)
            throw new ArgumentException($"patch rows hold {input.RowLength} floats, the patch embedding takes {RowLength}");
        var output = new float[input.PatchCount * Hidden];
        for (int p = 0; p < input.PatchCount; p++)
        {
            var row = input.Row(p);
            for (int o = 0; o < Hidden; o++)
            {
                var w = _weight.AsSpan(o * RowLength, RowLength);
                float sum = 0;
                for (int k = 0; k < RowLength; k++) sum += w[k] * row[k];
                output[p * Hidden + o] = sum + _bias[o];
            }
        }
        return output;
    }
}
