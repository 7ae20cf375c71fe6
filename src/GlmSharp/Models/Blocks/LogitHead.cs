using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// A final norm and an LM head, run only over the rows that want logits: those rows are gathered first, then normed
/// and projected <see cref="ForwardScratch.LogitRowsPerPass"/> at a time in the backend's memory and copied out.
/// </summary>
public sealed class LogitHead(IComputeBackend backend, RmsNorm norm, Linear head)
{
    public RmsNorm Norm => norm;
    public Linear Head => head;

    /// <summary>
    /// Writes the logits of the rows of <paramref name="hidden"/> ([rows, width]) whose <paramref name="wantsLogits"/> is
    /// set, in row order, to <paramref name="logits"/>; returns how many rows it wrote.
    /// </summary>
    public int Write(DeviceSpan<float> hidden, int rows, ReadOnlySpan<bool> wantsLogits, ForwardScratch scratch, Span<float> logits)
    {
        int width = norm.Width, vocab = head.OutFeatures;
        var selected = scratch.Projected(rows);
        int outputs = 0;
        for (int r = 0; r < rows; r++)
            if (wantsLogits[r])
                backend.Copy(hidden.Slice(r * width, width), selected.Slice(outputs++ * width, width));
        for (int first = 0; first < outputs; first += ForwardScratch.LogitRowsPerPass)
        {
            int count = Math.Min(ForwardScratch.LogitRowsPerPass, outputs - first);
            var normed = scratch.Normed(count);
            norm.Apply(selected.Slice(first * width, count * width), normed, count);
            var rowLogits = scratch.Logits(count);
            head.Forward(normed, rowLogits, count);
            backend.Download(rowLogits, logits.Slice(first * vocab, count * vocab));
        }
        return outputs;
    }
}
