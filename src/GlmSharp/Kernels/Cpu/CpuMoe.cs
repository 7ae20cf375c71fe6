using System.Numerics.Tensors;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>Mixture-of-experts routing and the grouped expert multiplication on the CPU.</summary>
internal static unsafe class CpuMoe
{
    /// <summary>One row's routing, scalar: a router has at most a few hundred experts per row.</summary>
    public static void Route(ReadOnlySpan<float> logits, MoeRouting routing, Span<int> chosen, Span<float> weights, Span<float> scores, Span<float> selection)
    {
        int experts = routing.Experts, k = routing.ExpertsPerRow;
        if (routing.Scoring == ExpertScoring.Sigmoid) TensorPrimitives.Sigmoid(logits, scores);
        else TensorPrimitives.SoftMax(logits, scores);
        if (routing.SelectionBias is not null) TensorPrimitives.Add(scores, routing.SelectionBias, selection);
        else scores.CopyTo(selection);
        if (routing.GroupsKept < routing.Groups) KeepBestGroups(selection, routing);

        for (int slot = 0; slot < k; slot++)
        {
            int best = -1;
            for (int e = 0; e < experts; e++)
                if (!float.IsNegativeInfinity(selection[e]) && (best < 0 || selection[e] > selection[best])) best = e;
            chosen[slot] = best;
            weights[slot] = scores[best];
            selection[best] = float.NegativeInfinity;
        }
        if (routing.NormalizeWeights)
        {
            float sum = TensorPrimitives.Sum(weights[..k]);
            TensorPrimitives.Divide(weights[..k], sum, weights[..k]);
        }
        if (routing.WeightScale != 1f) TensorPrimitives.Multiply(weights[..k], routing.WeightScale, weights[..k]);
    }

    /// <summary>Masks every expert outside the groups whose two best selection scores sum highest.</summary>
    private static void KeepBestGroups(Span<float> selection, MoeRouting routing)
    {
        int size = routing.Experts / routing.Groups;
        Span<float> groupScores = stackalloc float[routing.Groups];
        for (int g = 0; g < routing.Groups; g++)
        {
            var group = selection.Slice(g * size, size);
            int first = TensorPrimitives.IndexOfMax(group);
            float second = float.NegativeInfinity;
            for (int i = 0; i < size; i++)
                if (i != first) second = MathF.Max(second, group[i]);
            groupScores[g] = size == 1 ? group[first] : group[first] + second;
        }
        for (int dropped = 0; dropped < routing.Groups - routing.GroupsKept; dropped++)
        {
            int worst = -1;
            for (int g = 0; g < routing.Groups; g++)
                if (!float.IsPositiveInfinity(groupScores[g]) && (worst < 0 || groupScores[g] < groupScores[worst])) worst = g;
            groupScores[worst] = float.PositiveInfinity;
            selection.Slice(worst * size, size).Fill(float.NegativeInfinity);
        }
    }

    /// <summary>
    /// Orders the (row, slot) pairs by expert, and for each expert with pairs gathers their inputs into one block,
    /// multiplies it by the expert's matrix and scatters the results back. <paramref name="scratch"/> holds the
    /// order, the gathered inputs and the block's outputs.
    /// </summary>
    public static void MatMulExperts(ReadOnlySpan<TensorView> experts, ReadOnlySpan<float> x, bool inputPerSlot, ReadOnlySpan<int> ids,
        int rows, int slots, Span<float> y, ref NativeBuffer scratch, WorkerPool pool, CpuIsa isa, Int8Path int8, ref NativeBuffer activations,
        NativeBuffer* threadScratch) =>
        Grouped(experts, default, x, inputPerSlot, ids, rows, slots, y, default, ref scratch, pool, isa, int8, ref activations, threadScratch);

    /// <summary>Gate and up products of each expert in one multiplication over its gathered rows: one preparation of the input, one pass of the threads.</summary>
    public static void MatMulGateUp(ReadOnlySpan<TensorView> gate, ReadOnlySpan<TensorView> up, ReadOnlySpan<float> x, ReadOnlySpan<int> ids,
        int rows, int slots, Span<float> gateOut, Span<float> upOut, ref NativeBuffer scratch, WorkerPool pool, CpuIsa isa, Int8Path int8,
        ref NativeBuffer activations, NativeBuffer* threadScratch) =>
        Grouped(gate, up, x, false, ids, rows, slots, gateOut, upOut, ref scratch, pool, isa, int8, ref activations, threadScratch);

    /// <summary>With <paramref name="second"/> experts, each expert's two matrices share its gathered input and write y and y2.</summary>
    private static void Grouped(ReadOnlySpan<TensorView> experts, ReadOnlySpan<TensorView> second, ReadOnlySpan<float> x, bool inputPerSlot,
        ReadOnlySpan<int> ids, int rows, int slots, Span<float> y, Span<float> y2, ref NativeBuffer scratch, WorkerPool pool, CpuIsa isa,
        Int8Path int8, ref NativeBuffer activations, NativeBuffer* threadScratch)
    {
        int pairs = rows * slots, inputs = checked((int)experts[0].Shape[1]), outputs = checked((int)experts[0].Shape[0]);
        int matrices = second.IsEmpty ? 1 : 2;
        long orderBytes = (long)(experts.Length + 1 + pairs) * sizeof(int);
        long alignedOrder = (orderBytes + 63) & ~63L;
        scratch.Ensure(alignedOrder + (long)pairs * (inputs + matrices * outputs) * sizeof(float));
        int* starts = (int*)scratch.Pointer, order = starts + experts.Length + 1;
        float* gathered = (float*)(scratch.Pointer + alignedOrder), results = gathered + (long)pairs * inputs;

        new Span<int>(starts, experts.Length + 1).Clear();
        foreach (int e in ids[..pairs]) starts[e + 1]++;
        for (int e = 0; e < experts.Length; e++) starts[e + 1] += starts[e];
        for (int pair = 0; pair < pairs; pair++) order[starts[ids[pair]]++] = pair;
        for (int e = experts.Length; e > 0; e--) starts[e] = starts[e - 1];
        starts[0] = 0;

        var both = new TwoMatrices();
        Span<TensorView> weights = both;
        for (int e = 0; e < experts.Length; e++)
        {
            int first = starts[e], count = starts[e + 1] - first;
            if (count == 0) continue;
            for (int i = 0; i < count; i++)
            {
                int pair = order[first + i], source = inputPerSlot ? pair : pair / slots;
                x.Slice(source * inputs, inputs).CopyTo(new Span<float>(gathered + (long)i * inputs, inputs));
            }
            weights[0] = experts[e];
            if (matrices == 2) weights[1] = second[e];
            CpuMatMul.Run(pool, isa, int8, weights[..matrices], gathered, results, count, ref activations, threadScratch);
            for (int i = 0; i < count; i++)
            {
                int slot = order[first + i];
                new ReadOnlySpan<float>(results + (long)i * outputs, outputs).CopyTo(y.Slice(slot * outputs, outputs));
                if (matrices == 2)
                    new ReadOnlySpan<float>(results + (long)(count + i) * outputs, outputs).CopyTo(y2.Slice(slot * outputs, outputs));
            }
        }
    }

    /// <summary>An expert's gate and up matrices on the stack, so a step allocates nothing.</summary>
    [System.Runtime.CompilerServices.InlineArray(2)]
    private struct TwoMatrices
    {
        private TensorView _first;
    }
}
