namespace GlmSharp.Tests.Support;

public static class LogitComparison
{
    /// <summary>Largest |a − b| over one position's logits, relative to that position's largest |reference logit|.</summary>
    public static double WorstRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int vocab)
    {
        double worst = 0;
        for (int row = 0; row < expected.Length / vocab; row++)
        {
            var a = actual.Slice(row * vocab, vocab);
            var e = expected.Slice(row * vocab, vocab);
            double maxAbs = 0, maxDiff = 0;
            for (int i = 0; i < vocab; i++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(e[i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - e[i]));
            }
            worst = Math.Max(worst, maxDiff / maxAbs);
        }
        return worst;
    }
}
