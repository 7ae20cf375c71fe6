using GlmSharp.Kernels;
using GlmSharp.Training.Layers;

namespace GlmSharp.Tests.Training;

public class AttentionBlockTests
{
    [Fact]
    public void Rope_Rotates_Adjacent_Pairs_Of_The_First_Rotary_Dims_And_Passes_The_Rest()
    {
        // head_dim 6, R = 4, theta 100: pair 0 turns by p·1, pair 1 by p·100^(-2/4) = p·0.1; dims 4, 5 untouched.
        var rope = new TrainingRope(RopeLayout.AdjacentPairs, rotaryDims: 4, theta: 100, maxPositions: 3);
        var x = new float[3 * 6];
        float[] token = [1, 0, 0, 1, 5, 6];
        token.CopyTo(x, 2 * 6);
        rope.Rotate(x, rows: 3, heads: 1, headDim: 6, seqLen: 3);
        float[] expected = [MathF.Cos(2), MathF.Sin(2), -MathF.Sin(0.2f), MathF.Cos(0.2f), 5, 6];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], x[2 * 6 + i], 5);
    }

    [Fact]
    public void Gqa_Query_Heads_Read_Their_Contiguous_Kv_Group()
    {
        // One token: softmax over a single key is 1, so each head's context is exactly its KV head's value.
        const int heads = 4, kvHeads = 2, headDim = 2;
        var q = FiniteDifference.Random(heads * headDim, 1);
        var k = FiniteDifference.Random(kvHeads * headDim, 2);
        float[] v = [10, 11, 20, 21];
        var context = new float[heads * headDim];
        CausalGqaAttention.Forward(q, k, v, new float[heads], context, 1, 1, heads, kvHeads, headDim);
        Assert.Equal([10, 11, 10, 11, 20, 21, 20, 21], context);
    }

    [Fact]
    public void Attention_Output_Of_Earlier_Positions_Ignores_Later_Keys_And_Values()
    {
        const int seqLen = 4, heads = 2, kvHeads = 1, headDim = 4;
        var q = FiniteDifference.Random(seqLen * heads * headDim, 3);
        var k = FiniteDifference.Random(seqLen * kvHeads * headDim, 4);
        var v = FiniteDifference.Random(seqLen * kvHeads * headDim, 5);
        var before = new float[seqLen * heads * headDim];
        var probs = new float[heads * seqLen * seqLen];
        CausalGqaAttention.Forward(q, k, v, probs, before, 1, seqLen, heads, kvHeads, headDim);
        for (int i = (seqLen - 1) * headDim; i < seqLen * headDim; i++) { k[i] += 3; v[i] -= 2; }
        var after = new float[before.Length];
        CausalGqaAttention.Forward(q, k, v, probs, after, 1, seqLen, heads, kvHeads, headDim);
        int earlier = (seqLen - 1) * heads * headDim;
        Assert.Equal(before[..earlier], after[..earlier]);
        Assert.NotEqual(before[earlier..], after[earlier..]);
    }
}
