using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// A mixture-of-experts MLP (DeepSeek-V3 / GLM-4.5): router logits x·W_gateᵀ, each row's k experts chosen as
/// <see cref="MoeRouting"/> says, each expert a SwiGLU over the rows routed to it (every expert's weights read once per
/// step), the results weighted into their rows, plus the shared experts' SwiGLU over every row, unweighted.
/// </summary>
public sealed class MoeFeedForward(IComputeBackend backend, Linear router, MoeRouting routing,
    TensorView[] gate, TensorView[] up, TensorView[] down, GatedMlp? shared)
{
    private readonly int _width = checked((int)gate[0].Shape[0]);

    /// <summary>
    /// Loads <c>gate.weight</c> (the router), with <paramref name="selectionBias"/> <c>gate.e_score_correction_bias</c>
    /// (added to the scores for choosing only: DeepSeek-V3's noaux_tc), the experts and <c>shared_experts.*</c>.
    /// </summary>
    public static MoeFeedForward Load(WeightBuilder mlp, IComputeBackend backend, int hidden, MoeShape shape, ExpertScoring scoring, bool selectionBias)
    {
        int experts = shape.RoutedExperts, width = shape.ExpertIntermediateSize;
        var routing = new MoeRouting(experts, shape.ExpertsPerToken, scoring)
        {
            SelectionBias = selectionBias ? mlp.Vector("gate.e_score_correction_bias", experts) : null,
            Groups = shape.ExpertGroups,
            GroupsKept = shape.TopkGroups,
            NormalizeWeights = shape.NormTopkProb,
            WeightScale = (float)shape.RoutedScalingFactor,
        };
        var (gate, up) = ExpertStack.LoadGateUp(mlp, experts, width, hidden);
        return new MoeFeedForward(backend,
            Linear.Load(mlp, backend, "gate", hidden, experts), routing, gate, up,
            ExpertStack.Load(mlp, "down_proj", experts, hidden, width),
            shape.SharedExperts > 0 ? GatedMlp.Load(mlp.At("shared_experts"), backend, hidden, width * shape.SharedExperts) : null);
    }

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows, ForwardScratch scratch)
    {
        int k = routing.ExpertsPerRow, pairs = rows * k, values = pairs * _width;
        var logits = scratch.RouterLogits(rows);
        var ids = scratch.ExpertIds(rows);
        var weights = scratch.ExpertWeights(rows);
        router.Forward(x, logits, rows);
        backend.RouteExperts(logits, rows, routing, ids, weights);

        var gateUp = scratch.ExpertGateUp(pairs);
        var activated = scratch.ExpertActivated(pairs);
        var outputs = scratch.ExpertOutputs(pairs);
        backend.MatMulExperts(gate, up, x, ids, rows, k, gateUp.Take(values), gateUp.Slice(values, values));
        backend.SwiGlu(gateUp.Take(values), gateUp.Slice(values, values), activated, pairs, _width);
        backend.MatMulExperts(down, activated, inputPerSlot: true, ids, rows, k, outputs);

        // Routed experts summed first, then the shared ones added, as llama.cpp orders the fp32 sums.
        backend.Fill(y, 0);
        backend.AddWeightedSlots(y, outputs, weights, rows, k);
        if (shared is null) return;
        var sharedOut = scratch.SharedExpertOutput(rows);
        shared.Forward(x, sharedOut, rows, scratch);
        backend.Add(y, sharedOut);
    }
}
