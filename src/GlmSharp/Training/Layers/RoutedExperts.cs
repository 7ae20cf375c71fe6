using System.Numerics.Tensors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Training.Layers;

/// <summary>
/// GLM-4.5's routed experts for training. Each row picks its experts with the engine's own router
/// (<see cref="CpuMoe.Route"/>: sigmoid scores, the selection bias added for the choice only, top-k, normalised, scaled),
/// so a trained model routes in inference exactly as it did in training. Then
///   y = Σ_j w_j · down_e(silu(gate_e x) · up_e x)   over the chosen experts e = e_j,
/// each expert run once over the rows routed to it. Gradients reach the experts and, through the weights w_j of the
/// chosen experts, the router; the choice itself is discrete and has none. The selection bias is not trained by
/// gradient: <see cref="BalanceBias"/> moves it against the load, GLM-4.5's (DeepSeek-V3's) auxiliary-loss-free balancing.
/// Expert weights: gate_up [experts, 2·inner, hidden] (gate rows first), down [experts, hidden, inner].
/// </summary>
public sealed class RoutedExperts
{
    private readonly int _hidden, _inner, _slots;
    private readonly MoeRouting _routing;
    private readonly float[] _logits, _weights, _rawScores, _dWeights, _x, _gateUp, _act, _out, _dOut, _dAct, _dGateUp, _dX, _dLogits, _xT, _wT;
    private readonly int[] _chosen, _rowOfSlot, _offsets, _load;

    /// <summary>Slot numbers (row·k + j) in expert order: expert e's rows are _groupedSlots[_offsets[e] .. _offsets[e + 1]).</summary>
    private readonly int[] _groupedSlots;
    private readonly float[] _routeScratch, _selectionScratch;
    private int _rows;

    public RoutedExperts(int hidden, int inner, int experts, int perRow, bool normalize, float scale, int maxRows)
    {
        _hidden = hidden;
        _inner = inner;
        _routing = new MoeRouting(experts, perRow, ExpertScoring.Sigmoid) { NormalizeWeights = normalize, WeightScale = scale, SelectionBias = new float[experts] };
        _routing.Validate();
        _slots = maxRows * perRow;
        _logits = new float[maxRows * experts];
        _dLogits = new float[maxRows * experts];
        _chosen = new int[_slots];
        _weights = new float[_slots];
        _rawScores = new float[_slots];
        _dWeights = new float[_slots];
        _groupedSlots = new int[_slots];
        _rowOfSlot = new int[_slots];
        _offsets = new int[experts + 1];
        _load = new int[experts];
        _x = new float[_slots * hidden];
        _dX = new float[_slots * hidden];
        _gateUp = new float[_slots * 2 * inner];
        _dGateUp = new float[_slots * 2 * inner];
        _act = new float[_slots * inner];
        _dAct = new float[_slots * inner];
        _out = new float[_slots * hidden];
        _dOut = new float[_slots * hidden];
        _xT = new float[Math.Max(maxRows, _slots) * Math.Max(hidden, inner)];
        _wT = new float[Math.Max(experts, 2 * inner) * hidden];
        _routeScratch = new float[experts];
        _selectionScratch = new float[experts];
    }

    public int Experts => _routing.Experts;
    public int PerRow => _routing.ExpertsPerRow;

    /// <summary>Rows routed to each expert by the last forward pass.</summary>
    public ReadOnlySpan<int> Load => _load;

    /// <summary>The experts each row of the last forward pass chose, <see cref="PerRow"/> per row.</summary>
    public ReadOnlySpan<int> Chosen => _chosen.AsSpan(0, _rows * PerRow);

    /// <param name="router">[experts, hidden].</param>
    /// <param name="selectionBias">[experts]: added to the scores for the choice only.</param>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> router, ReadOnlySpan<float> selectionBias,
        ReadOnlySpan<float> gateUp, ReadOnlySpan<float> down, Span<float> y, int rows)
    {
        int h = _hidden, inner = _inner, experts = Experts, k = PerRow;
        if (rows * k > _slots) throw new ArgumentException($"{rows} rows exceed the {_slots / k} this layer was sized for");
        _rows = rows;
        selectionBias.CopyTo(_routing.SelectionBias);
        Linear.Forward(x, router, [], _logits, _wT, rows, h, experts);
        for (int r = 0; r < rows; r++)
        {
            var logits = _logits.AsSpan(r * experts, experts);
            CpuMoe.Route(logits, _routing, _chosen.AsSpan(r * k, k), _weights.AsSpan(r * k, k), _routeScratch, _selectionScratch);
            // The router leaves each expert's sigmoid score in its first scratch.
            for (int j = 0; j < k; j++) _rawScores[r * k + j] = _routeScratch[_chosen[r * k + j]];
        }
        GroupSlotsByExpert(rows);

        y[..(rows * h)].Clear();
        for (int e = 0; e < experts; e++)
        {
            int first = _offsets[e], count = _offsets[e + 1] - first;
            if (count == 0) continue;
            var xs = _x.AsSpan(first * h, count * h);
            for (int i = 0; i < count; i++) x.Slice(_rowOfSlot[_groupedSlots[first + i]] * h, h).CopyTo(xs.Slice(i * h, h));
            var gu = _gateUp.AsSpan(first * 2 * inner, count * 2 * inner);
            var act = _act.AsSpan(first * inner, count * inner);
            var output = _out.AsSpan(first * h, count * h);
            Linear.Forward(xs, ExpertGateUp(gateUp, e), [], gu, _wT, count, h, 2 * inner);
            SwiGlu.Forward(gu, act, count, inner);
            Linear.Forward(act, ExpertDown(down, e), [], output, _wT, count, inner, h);
            for (int i = 0; i < count; i++)
            {
                int slot = _groupedSlots[first + i];
                TensorPrimitives.MultiplyAdd(output.Slice(i * h, h), _weights[slot], y.Slice(_rowOfSlot[slot] * h, h), y.Slice(_rowOfSlot[slot] * h, h));
            }
        }
    }

    /// <summary>Writes d(x) and adds the router's and the experts' gradients for d(y) of the last forward pass.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> router, ReadOnlySpan<float> gateUp, ReadOnlySpan<float> down,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dRouter, Span<float> dGateUp, Span<float> dDown)
    {
        int rows = _rows, h = _hidden, inner = _inner, experts = Experts, k = PerRow;
        dx[..(rows * h)].Clear();
        for (int e = 0; e < experts; e++)
        {
            int first = _offsets[e], count = _offsets[e + 1] - first;
            if (count == 0) continue;
            var output = _out.AsSpan(first * h, count * h);
            var dOutput = _dOut.AsSpan(first * h, count * h);
            for (int i = 0; i < count; i++)
            {
                int slot = _groupedSlots[first + i];
                var dyRow = dy.Slice(_rowOfSlot[slot] * h, h);
                TensorPrimitives.Multiply(dyRow, _weights[slot], dOutput.Slice(i * h, h));
                _dWeights[slot] = TensorPrimitives.Dot(dyRow, output.Slice(i * h, h));
            }
            var act = _act.AsSpan(first * inner, count * inner);
            var dAct = _dAct.AsSpan(first * inner, count * inner);
            var gu = _gateUp.AsSpan(first * 2 * inner, count * 2 * inner);
            var dGu = _dGateUp.AsSpan(first * 2 * inner, count * 2 * inner);
            var xs = _x.AsSpan(first * h, count * h);
            var dXs = _dX.AsSpan(first * h, count * h);
            Linear.Backward(act, ExpertDown(down, e), dOutput, dAct, ExpertDown(dDown, e), [], _xT, _wT, count, inner, h, accumulateDx: false);
            SwiGlu.Backward(gu, dAct, dGu, count, inner);
            Linear.Backward(xs, ExpertGateUp(gateUp, e), dGu, dXs, ExpertGateUp(dGateUp, e), [], _xT, _wT, count, h, 2 * inner, accumulateDx: false);
            for (int i = 0; i < count; i++)
            {
                var dxRow = dx.Slice(_rowOfSlot[_groupedSlots[first + i]] * h, h);
                TensorPrimitives.Add(dxRow, dXs.Slice(i * h, h), dxRow);
            }
        }

        // w_j = scale·s_j / Σ s (or scale·s_j): d s_i = scale·(d w_i − Σ_j d w_j·s_j / Σ s) / Σ s; d logit = d s·s(1 − s).
        var dLogits = _dLogits.AsSpan(0, rows * experts);
        for (int r = 0; r < rows; r++)
        {
            var dWeights = _dWeights.AsSpan(r * k, k);
            var s = _rawScores.AsSpan(r * k, k);
            float sum = _routing.NormalizeWeights ? TensorPrimitives.Sum(s) : 1f;
            float mean = _routing.NormalizeWeights ? TensorPrimitives.Dot(dWeights, s) / sum : 0f;
            var dRow = dLogits.Slice(r * experts, experts);
            dRow.Clear();
            for (int j = 0; j < k; j++)
                dRow[_chosen[r * k + j]] = _routing.WeightScale * (dWeights[j] - mean) / sum * s[j] * (1 - s[j]);
        }
        Linear.Backward(x, router, dLogits, dx, dRouter, [], _xT, _wT, rows, h, experts, accumulateDx: true);
    }

    /// <summary>
    /// Moves each expert's selection bias by <paramref name="rate"/> towards balance: up when the expert took fewer
    /// rows than the mean in the last forward pass, down when it took more.
    /// </summary>
    public void BalanceBias(Span<float> selectionBias, float rate)
    {
        float mean = (float)_rows * PerRow / Experts;
        for (int e = 0; e < Experts; e++) selectionBias[e] += rate * MathF.Sign(mean - _load[e]);
    }

    private void GroupSlotsByExpert(int rows)
    {
        int k = PerRow;
        Array.Clear(_load);
        for (int slot = 0; slot < rows * k; slot++)
        {
            _load[_chosen[slot]]++;
            _rowOfSlot[slot] = slot / k;
        }
        _offsets[0] = 0;
        for (int e = 0; e < Experts; e++) _offsets[e + 1] = _offsets[e] + _load[e];
        Span<int> next = stackalloc int[Experts];
        _offsets.AsSpan(0, Experts).CopyTo(next);
        for (int slot = 0; slot < rows * k; slot++) _groupedSlots[next[_chosen[slot]]++] = slot;
    }

    private ReadOnlySpan<float> ExpertGateUp(ReadOnlySpan<float> all, int e) => all.Slice(e * 2 * _inner * _hidden, 2 * _inner * _hidden);
    private Span<float> ExpertGateUp(Span<float> all, int e) => all.Slice(e * 2 * _inner * _hidden, 2 * _inner * _hidden);
    private ReadOnlySpan<float> ExpertDown(ReadOnlySpan<float> all, int e) => all.Slice(e * _hidden * _inner, _hidden * _inner);
    private Span<float> ExpertDown(Span<float> all, int e) => all.Slice(e * _hidden * _inner, _hidden * _inner);
}
