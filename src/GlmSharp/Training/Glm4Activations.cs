using GlmSharp.Training.Layers;

namespace GlmSharp.Training;

/// <summary>What one glm4 layer's forward pass keeps for its backward pass; N = batch·seqLen rows.</summary>
internal sealed class Glm4LayerActivations
{
    public Glm4LayerActivations(Glm4TrainingShape s, int batch, int seqLen)
    {
        int n = batch * seqLen, h = s.HiddenSize;
        AttnIn = new float[n * h];
        AttnInRstd = new float[n];
        Attention = new AttentionActivations(s, batch, seqLen);
        AttnOut = new float[n * h];
        AttnOutRstd = new float[n];
        Mid = new float[n * h];
        MlpIn = new float[n * h];
        MlpInRstd = new float[n];
        GateUp = new float[n * 2 * s.IntermediateSize];
        Act = new float[n * s.IntermediateSize];
        MlpOut = new float[n * h];
        MlpOutRstd = new float[n];
    }

    public float[] AttnIn { get; }       // input_layernorm(x)           [N, H]
    public float[] AttnInRstd { get; }   //                              [N]
    public AttentionActivations Attention { get; }
    public float[] AttnOut { get; }      // o_proj output                [N, H]
    public float[] AttnOutRstd { get; }  //                              [N]
    public float[] Mid { get; }          // x + post_self_attn_norm(o)   [N, H]
    public float[] MlpIn { get; }        // post_attention_layernorm(h)  [N, H]
    public float[] MlpInRstd { get; }    //                              [N]
    public float[] GateUp { get; }       // gate_up_proj output          [N, 2I]
    public float[] Act { get; }          // silu(gate)·up                [N, I]
    public float[] MlpOut { get; }       // down_proj output             [N, H]
    public float[] MlpOutRstd { get; }   //                              [N]
}

/// <summary>Gradient buffers reused by every layer of the backward pass.</summary>
internal sealed class Glm4GradientScratch
{
    public Glm4GradientScratch(Glm4TrainingShape s, int rows)
    {
        int h = s.HiddenSize, i = s.IntermediateSize;
        Residual = new float[rows * h];
        Hidden = new float[rows * h];
        Act = new float[rows * i];
        GateUp = new float[rows * 2 * i];
        int widest = Math.Max(Math.Max(h, s.QueryWidth), i);
        InputTransposed = new float[rows * widest];
        long largestWeight = Math.Max(Math.Max((long)s.VocabSize * h, 2L * i * h), (long)s.QueryWidth * h);
        WeightTransposed = new float[largestWeight];
        Attention = new AttentionGradients(s, rows, InputTransposed, WeightTransposed);
    }

    public float[] Residual { get; }
    public float[] Hidden { get; }
    public float[] Act { get; }
    public float[] GateUp { get; }
    public AttentionGradients Attention { get; }
    public float[] InputTransposed { get; }
    public float[] WeightTransposed { get; }
}
