using GlmSharp.Kernels;
using GlmSharp.Training.Layers;

namespace GlmSharp.Tests.Training;

public class LayerGradientTests
{
    private static float[] R(int n, ulong seed, double std = 1.0, double mean = 0.0) => FiniteDifference.Random(n, seed, std, mean);

    [Fact]
    public void RmsNorm_Backward_Matches_Finite_Differences_For_Input_And_Weight()
    {
        const int rows = 3, dim = 8;
        var x = R(rows * dim, 1);
        var w = R(dim, 2, 0.3, 1.0);
        var probe = R(rows * dim, 3);
        var y = new float[rows * dim];
        var rstd = new float[rows];
        double Loss()
        {
            RmsNorm.Forward(x, w, y, rstd, rows, dim, 1e-5f);
            return FiniteDifference.Project(y, probe);
        }
        Loss();
        var dx = new float[rows * dim];
        var dw = new float[dim];
        RmsNorm.Backward(x, w, rstd, probe, dx, dw, rows, dim, accumulateDx: false);
        FiniteDifference.AssertClose(x, dx, Loss, "dx");
        FiniteDifference.AssertClose(w, dw, Loss, "dweight");
    }

    [Fact]
    public void Linear_Backward_Matches_Finite_Differences_For_Input_Weight_And_Bias()
    {
        const int rows = 5, inDim = 6, outDim = 7;
        var x = R(rows * inDim, 4);
        var w = R(outDim * inDim, 5);
        var b = R(outDim, 6);
        var probe = R(rows * outDim, 7);
        var y = new float[rows * outDim];
        var scratch = new float[inDim * outDim];
        double Loss()
        {
            Linear.Forward(x, w, b, y, scratch, rows, inDim, outDim);
            return FiniteDifference.Project(y, probe);
        }
        Loss();
        var dx = new float[rows * inDim];
        var dw = new float[outDim * inDim];
        var db = new float[outDim];
        Linear.Backward(x, w, probe, dx, dw, db, new float[rows * inDim], new float[inDim * outDim], rows, inDim, outDim,
            accumulateDx: false);
        FiniteDifference.AssertClose(x, dx, Loss, "dx");
        FiniteDifference.AssertClose(w, dw, Loss, "dweight");
        FiniteDifference.AssertClose(b, db, Loss, "dbias");
    }

    [Fact]
    public void SwiGlu_Backward_Matches_Finite_Differences_For_Gate_And_Up()
    {
        const int rows = 3, inner = 5;
        var gateUp = R(rows * 2 * inner, 8, 2.0);
        var probe = R(rows * inner, 9);
        var act = new float[rows * inner];
        double Loss()
        {
            SwiGlu.Forward(gateUp, act, rows, inner);
            return FiniteDifference.Project(act, probe);
        }
        var dGateUp = new float[rows * 2 * inner];
        SwiGlu.Backward(gateUp, probe, dGateUp, rows, inner);
        FiniteDifference.AssertClose(gateUp, dGateUp, Loss, "dgate_up");
    }

    [Fact]
    public void Embedding_Backward_Adds_Each_Row_Gradient_To_Its_Token_Row_Including_Repeats()
    {
        const int vocab = 4, dim = 3;
        int[] ids = [2, 0, 2];
        var table = R(vocab * dim, 10);
        var probe = R(ids.Length * dim, 11);
        var x = new float[ids.Length * dim];
        double Loss()
        {
            Embedding.Forward(ids, table, x, dim);
            return FiniteDifference.Project(x, probe);
        }
        var dTable = new float[vocab * dim];
        Embedding.Backward(ids, probe, dTable, dim);
        Assert.All(dTable.AsSpan(dim, dim).ToArray(), v => Assert.Equal(0f, v));
        FiniteDifference.AssertClose(table, dTable, Loss, "dembedding");
    }

    [Fact]
    public void CrossEntropy_Gradient_Matches_Finite_Differences_And_Ignores_Masked_Rows()
    {
        const int rows = 4, vocab = 6;
        var logits = R(rows * vocab, 12, 2.0);
        int[] targets = [1, -1, 5, 0];
        var d = new float[rows * vocab];
        double Loss() => CrossEntropy.ForwardBackward(logits, targets, new float[rows * vocab], rows, vocab);
        CrossEntropy.ForwardBackward(logits, targets, d, rows, vocab);
        Assert.All(d.AsSpan(vocab, vocab).ToArray(), v => Assert.Equal(0f, v));
        FiniteDifference.AssertClose(logits, d, Loss, "dlogits");
    }

    [Fact]
    public void CrossEntropy_Of_Uniform_Logits_Is_Log_Vocab()
    {
        const int rows = 2, vocab = 7;
        var logits = new float[rows * vocab];
        float loss = CrossEntropy.ForwardBackward(logits, [3, 6], new float[rows * vocab], rows, vocab);
        Assert.Equal(Math.Log(vocab), loss, 5);
    }

    [Fact]
    public void Attention_Backward_Matches_Finite_Differences_With_Gqa_Groups()
    {
        const int batch = 2, seqLen = 4, heads = 4, kvHeads = 2, headDim = 4;
        int n = batch * seqLen;
        var q = R(n * heads * headDim, 13);
        var k = R(n * kvHeads * headDim, 14);
        var v = R(n * kvHeads * headDim, 15);
        var probe = R(n * heads * headDim, 16);
        var probs = new float[batch * heads * seqLen * seqLen];
        var context = new float[n * heads * headDim];
        double Loss()
        {
            CausalGqaAttention.Forward(q, k, v, probs, context, batch, seqLen, heads, kvHeads, headDim);
            return FiniteDifference.Project(context, probe);
        }
        Loss();
        var dq = new float[q.Length];
        var dk = new float[k.Length];
        var dv = new float[v.Length];
        CausalGqaAttention.Backward(q, k, v, probs, probe, dq, dk, dv, batch, seqLen, heads, kvHeads, headDim);
        FiniteDifference.AssertClose(q, dq, Loss, "dq");
        FiniteDifference.AssertClose(k, dk, Loss, "dk");
        FiniteDifference.AssertClose(v, dv, Loss, "dv");
    }

    [Theory]
    [InlineData(RopeLayout.AdjacentPairs)]
    [InlineData(RopeLayout.SplitHalves)]
    public void Rope_Backward_Is_The_Gradient_Of_The_Rotation_Including_Pass_Through_Dims(RopeLayout layout)
    {
        const int seqLen = 3, heads = 2, headDim = 8;
        var rope = new TrainingRope(layout, rotaryDims: 4, theta: 10000, maxPositions: seqLen);
        var x = R(seqLen * heads * headDim, 17);
        var probe = R(x.Length, 18);
        double Loss()
        {
            var y = (float[])x.Clone();
            rope.Rotate(y, seqLen, heads, headDim, seqLen);
            return FiniteDifference.Project(y, probe);
        }
        var dx = (float[])probe.Clone();
        rope.RotateBack(dx, seqLen, heads, headDim, seqLen);
        FiniteDifference.AssertClose(x, dx, Loss, "drope");
    }
}
