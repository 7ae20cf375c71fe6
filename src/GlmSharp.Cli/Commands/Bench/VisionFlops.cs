using GlmSharp.Configs;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Floating-point operations of one image through the glm4v tower, a multiply-add counted as two; norms, RoPE, softmax
/// and activations are left out (they are O(n·d), a fraction of a percent). With n patches, m = n / merge² tokens, d the
/// width, r = channels · temporal · patch² the patch row, f the block MLP width, o the output width, i the merger's MLP:
///   patch embed 2·n·r·d
///   each block  2·n·(3d² + d² + 3·d·f)   q/k/v, output projection, gate/up/down
///             + 4·n²·d                   q·kᵀ and scores·v over all heads
///   merger      2·m·(merge²·d·o + o² + 3·o·i)
/// </summary>
internal static class VisionFlops
{
    public const string Formula =
        "FLOP = 2·n·r·d + L·[2·n·(4d² + 3·d·f) + 4·n²·d] + 2·m·(merge²·d·o + o² + 3·o·i); n patches, m tokens, d width, " +
        "r patch row, f block MLP, o output width, i merger MLP, L blocks; multiply-add = 2";

    public static double Of(Glm4vVisionConfig c, long patches)
    {
        double n = patches, d = c.HiddenSize, f = c.BlockMlpWidth, o = c.OutHiddenSize, i = c.MergerWidth;
        double merge2 = c.SpatialMergeSize * c.SpatialMergeSize, m = n / merge2;
        double r = c.InChannels * c.TemporalPatchSize * c.PatchSize * c.PatchSize;
        double block = 2 * n * (4 * d * d + 3 * d * f) + 4 * n * n * d;
        return 2 * n * r * d + c.Depth * block + 2 * m * (merge2 * d * o + o * o + 3 * o * i);
    }
}
