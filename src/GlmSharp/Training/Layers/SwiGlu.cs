namespace GlmSharp.Training.Layers;

/// <summary>
/// act = silu(gate)·up over the fused gate_up output: columns [0, I) are the gate, [I, 2I) the up projection
/// (GLM's <c>mlp.gate_up_proj</c> row order).
/// </summary>
public static class SwiGlu
{
    public static void Forward(ReadOnlySpan<float> gateUp, Span<float> act, int rows, int inner)
    {
        for (int r = 0; r < rows; r++)
        {
            var gu = gateUp.Slice(r * 2 * inner, 2 * inner);
            var a = act.Slice(r * inner, inner);
            for (int j = 0; j < inner; j++)
            {
                float g = gu[j];
                a[j] = g / (1f + MathF.Exp(-g)) * gu[inner + j];
            }
        }
    }

    /// <summary>d gate = dAct·up·σ(g)(1 + g(1 − σ(g))), d up = dAct·silu(g).</summary>
    public static void Backward(ReadOnlySpan<float> gateUp, ReadOnlySpan<float> dAct, Span<float> dGateUp, int rows, int inner)
    {
        for (int r = 0; r < rows; r++)
        {
            var gu = gateUp.Slice(r * 2 * inner, 2 * inner);
            var da = dAct.Slice(r * inner, inner);
            var dgu = dGateUp.Slice(r * 2 * inner, 2 * inner);
            for (int j = 0; j < inner; j++)
            {
                float g = gu[j], sigmoid = 1f / (1f + MathF.Exp(-g));
                dgu[j] = da[j] * gu[inner + j] * sigmoid * (1f + g * (1f - sigmoid));
                dgu[inner + j] = da[j] * g * sigmoid;
            }
        }
    }
}
