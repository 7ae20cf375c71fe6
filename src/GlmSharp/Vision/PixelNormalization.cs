namespace GlmSharp.Vision;

/// <summary>
/// uint8 → normalised float per channel, as a 256-entry table per channel, in each reference's float32 order:
/// transformers fuses the 1/255 rescale into the statistics, (v − 255·mean) / (255·std); clip computes
/// (v / 255 − mean) / std. Both equal (v/255 − mean)/std in exact arithmetic and differ in the last bits.
/// </summary>
public static class PixelNormalization
{
    public static float[] Table(ImagePreprocessing mode, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        var table = new float[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            float fusedMean = mean[c] * 255f, fusedStd = std[c] * 255f;
            for (int v = 0; v < 256; v++)
                table[c * 256 + v] = mode == ImagePreprocessing.HuggingFace
                    ? (v - fusedMean) / fusedStd
                    : (v / 255f - mean[c]) / std[c];
        }
        return table;
    }
}
