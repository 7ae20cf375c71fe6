using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>One transformer block: reads and updates the residual stream of <paramref name="rows"/> tokens in place.</summary>
public interface IDecoderLayer
{
    void Forward(Span<float> hidden, int rows, int firstPosition, LayerKvCache cache, ForwardScratch scratch);
}
