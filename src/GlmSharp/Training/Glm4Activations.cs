namespace GlmSharp.Training;

/// <summary>What one glm4 layer's forward pass keeps for its backward pass; N = batch·seqLen rows.</summary>
internal sealed class Glm4LayerActivations
{
    public Glm4LayerActivations(Glm4TrainingShape s, int batch, int seqLen)
    {
        int n = batch * seqLen, h = s.HiddenSize;
        AttnIn = new float[n * h];
        AttnInRstd = new float[n];
        Q = new float[n * s.QueryWidth];
        K = new float[n * s.KeyValueWidth];
        V = new float[n * s.KeyValueWidth];
        Probs = new float[(long)batch * s.NumHeads * seqLen * seqLen];
        Context = new float[n * s.QueryWidth];
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
    public float[] Q { get; }            // after bias and RoPE          [N, heads·D]
    public float[] K { get; }            // after bias and RoPE          [N, kv·D]
    public float[] V { get; }            //                              [N, kv·D]
    public float[] Probs { get; }        // attention probabilities      [B, heads, T, T]
    public float[] Context { get; }      // attention output             [N, heads·D]
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
        Q = new float[rows * s.QueryWidth];
        K = new float[rows * s.KeyValueWidth];
        V = new float[rows * s.KeyValueWidth];
        Context = new float[rows * s.QueryWidth];
        int widest = Math.Max(Math.Max(h, s.QueryWidth), i);
        InputTransposed = new float[rows * widest];
        long largestWeight = Math.Max(Math.Max((long)s.VocabSize * h, 2L * i * h), (long)s.QueryWidth * h);
        WeightTransposed = new float[largestWeight];
    }

    public float[] Residual { get; }
    public float[] Hidden { get; }
    public float[] Act { get; }
    public float[] GateUp { get; }
    public float[] Q { get; }
    public float[] K { get; }
    public float[] V { get; }
    public float[] Context { get; }
    public float[] InputTransposed { get; }
    public float[] WeightTransposed { get; }
}
