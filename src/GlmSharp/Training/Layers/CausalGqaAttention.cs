namespace GlmSharp.Training.Layers;

/// <summary>
/// Causal scaled-dot-product attention with grouped KV heads: query head h reads KV head h / (heads / kvHeads)
/// (contiguous groups), scores scaled by 1/sqrt(head_dim). Rows are tokens of <c>batch</c> sequences of
/// <c>seqLen</c>; q is [rows, heads·D], k and v are [rows, kvHeads·D].
/// </summary>
public static unsafe class CausalGqaAttention
{
    /// <param name="probs">Saved softmax probabilities [batch, heads, seqLen, seqLen]; entries above the diagonal stay 0.</param>
    /// <param name="context">Output [rows, heads·D], the input of o_proj.</param>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> probs,
        Span<float> context, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        var d = new Dims(batch, seqLen, heads, kvHeads, headDim);
        fixed (float* pq = q, pk = k, pv = v, pp = probs, pc = context)
        {
            float* qp = pq, kp = pk, vp = pv, probsP = pp, ctxP = pc;
            Parallel.For(0, batch * heads, task => ForwardHead(d, task / heads, task % heads, qp, kp, vp, probsP, ctxP));
        }
    }

    /// <summary>Writes dq, dk, dv (overwriting them) from the gradient of the context.</summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probs,
        ReadOnlySpan<float> dContext, Span<float> dq, Span<float> dk, Span<float> dv,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        var d = new Dims(batch, seqLen, heads, kvHeads, headDim);
        fixed (float* pq = q, pk = k, pv = v, pp = probs, pdc = dContext, pdq = dq, pdk = dk, pdv = dv)
        {
            float* qp = pq, kp = pk, vp = pv, probsP = pp, dcP = pdc, dqP = pdq, dkP = pdk, dvP = pdv;
            // One task per (sequence, KV head) so the query heads sharing that KV head add into dk/dv without races.
            Parallel.For(0, batch * kvHeads, task =>
                BackwardGroup(d, task / kvHeads, task % kvHeads, qp, kp, vp, probsP, dcP, dqP, dkP, dvP));
        }
    }

    private readonly record struct Dims(int Batch, int SeqLen, int Heads, int KvHeads, int HeadDim)
    {
        public int QWidth => Heads * HeadDim;
        public int KvWidth => KvHeads * HeadDim;
        public int Group => Heads / KvHeads;
        public float Scale => 1f / MathF.Sqrt(HeadDim);
        public long ProbOffset(int b, int h, int i) => (((long)b * Heads + h) * SeqLen + i) * SeqLen;
    }

    private static void ForwardHead(Dims d, int b, int h, float* q, float* k, float* v, float* probs, float* context)
    {
        int g = h / d.Group;
        for (int i = 0; i < d.SeqLen; i++)
        {
            long row = (long)b * d.SeqLen + i;
            float* qi = q + row * d.QWidth + h * d.HeadDim;
            float* p = probs + d.ProbOffset(b, h, i);
            float max = float.NegativeInfinity;
            for (int j = 0; j <= i; j++)
            {
                float* kj = k + ((long)b * d.SeqLen + j) * d.KvWidth + g * d.HeadDim;
                p[j] = TrainingKernels.Dot(qi, kj, d.HeadDim) * d.Scale;
                max = MathF.Max(max, p[j]);
            }
            float sum = 0;
            for (int j = 0; j <= i; j++) sum += p[j] = MathF.Exp(p[j] - max);
            float inv = 1f / sum;
            float* ci = context + row * d.QWidth + h * d.HeadDim;
            new Span<float>(ci, d.HeadDim).Clear();
            for (int j = 0; j <= i; j++)
            {
                p[j] *= inv;
                TrainingKernels.AddScaled(ci, v + ((long)b * d.SeqLen + j) * d.KvWidth + g * d.HeadDim, p[j], d.HeadDim);
            }
            for (int j = i + 1; j < d.SeqLen; j++) p[j] = 0;
        }
    }

    private static void BackwardGroup(Dims d, int b, int g, float* q, float* k, float* v, float* probs, float* dContext,
        float* dq, float* dk, float* dv)
    {
        for (int j = 0; j < d.SeqLen; j++)
        {
            long row = (long)b * d.SeqLen + j;
            new Span<float>(dk + row * d.KvWidth + g * d.HeadDim, d.HeadDim).Clear();
            new Span<float>(dv + row * d.KvWidth + g * d.HeadDim, d.HeadDim).Clear();
        }
        var dp = d.SeqLen <= 4096 ? stackalloc float[d.SeqLen] : new float[d.SeqLen];
        for (int h = g * d.Group; h < (g + 1) * d.Group; h++)
        {
            for (int i = 0; i < d.SeqLen; i++)
            {
                long row = (long)b * d.SeqLen + i;
                float* dci = dContext + row * d.QWidth + h * d.HeadDim;
                float* qi = q + row * d.QWidth + h * d.HeadDim;
                float* dqi = dq + row * d.QWidth + h * d.HeadDim;
                float* p = probs + d.ProbOffset(b, h, i);
                float weighted = 0;
                for (int j = 0; j <= i; j++)
                {
                    long kvRow = ((long)b * d.SeqLen + j) * d.KvWidth + g * d.HeadDim;
                    dp[j] = TrainingKernels.Dot(dci, v + kvRow, d.HeadDim);
                    TrainingKernels.AddScaled(dv + kvRow, dci, p[j], d.HeadDim);
                    weighted += p[j] * dp[j];
                }
                new Span<float>(dqi, d.HeadDim).Clear();
                for (int j = 0; j <= i; j++)
                {
                    long kvRow = ((long)b * d.SeqLen + j) * d.KvWidth + g * d.HeadDim;
                    float dScore = p[j] * (dp[j] - weighted) * d.Scale;
                    TrainingKernels.AddScaled(dqi, k + kvRow, dScore, d.HeadDim);
                    TrainingKernels.AddScaled(dk + kvRow, qi, dScore, d.HeadDim);
                }
            }
        }
    }
}
