using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// Every activation buffer of one forward pass, in the backend's memory, allocated once per context from the config
/// and the most rows run through the layers together, so a decode step allocates nothing. A mixture-of-experts config
/// adds the router's and the experts' buffers: each row goes to ExpertsPerToken experts, so those hold rows × k pairs.
/// </summary>
public sealed class ForwardScratch : IDisposable
{
    /// <summary>
    /// Rows whose logits are computed in the backend's memory at a time before they are copied out: every decode
    /// step's rows, and a bound on the buffer a 512-row prefill of a 151,552-token vocabulary would need (310 MB).
    /// </summary>
    public const int LogitRowsPerPass = 64;

    private readonly List<DeviceMemory> _memory = [];
    private readonly DeviceSpan<float> _hidden, _normed, _queryKeyValue, _attention, _projected, _gateUp, _intermediate, _logits;
    private readonly DeviceSpan<float> _routerLogits, _expertWeights, _expertGateUp, _expertActivated, _expertOutputs, _sharedExpertOutput;
    private readonly DeviceSpan<int> _expertIds;
    private readonly int _hiddenSize, _queryWidth, _kvWidth, _mlpWidth, _vocab, _experts, _expertsPerRow, _expertWidth;

    public int MaxRows { get; }

    /// <summary>MLA attention's buffers, for an MLA model; null otherwise.</summary>
    public MlaScratch? Mla { get; }

    /// <summary>The DSA indexer's buffers and the step's key selection, for a glm_moe_dsa model; null otherwise.</summary>
    public DsaScratch? Dsa { get; }

    public ForwardScratch(IComputeBackend backend, ModelConfig config, int maxRows)
    {
        MaxRows = maxRows;
        _hiddenSize = config.HiddenSize;
        _queryWidth = config.NumHeads * config.HeadDim;
        _kvWidth = config.NumKvHeads * config.HeadDim;
        var moe = (config as IMoeConfig)?.Moe;
        _mlpWidth = Math.Max(config.IntermediateSize, moe is null ? 0 : moe.ExpertIntermediateSize * moe.SharedExperts);
        _vocab = config.VocabSize;
        try
        {
            _hidden = Floats(backend, (long)maxRows * _hiddenSize);           // (rows, hidden) residual stream
            _normed = Floats(backend, (long)maxRows * _hiddenSize);           // (rows, hidden) normalised input of a sub-layer
            _projected = Floats(backend, (long)maxRows * _hiddenSize);        // (rows, hidden) output of a sub-layer
            _queryKeyValue = Floats(backend, (long)maxRows * (_queryWidth + 2 * _kvWidth)); // q, k, v one after another
            _attention = Floats(backend, (long)maxRows * _queryWidth);        // (rows, heads·headDim)
            _gateUp = Floats(backend, (long)maxRows * 2 * _mlpWidth);         // (rows, 2·intermediate)
            _intermediate = Floats(backend, (long)maxRows * _mlpWidth);
            _logits = Floats(backend, (long)Math.Min(maxRows, LogitRowsPerPass) * _vocab);
            if (config is IMlaConfig mla) Mla = new MlaScratch(backend, config, mla.Mla, maxRows, length => Floats(backend, length), n => Track(backend.Allocate<int>(n)));
            if (config is GlmMoeDsaConfig dsa) Dsa = new DsaScratch(dsa.Indexer, maxRows, length => Floats(backend, length), n => Track(backend.Allocate<int>(n)));
            if (moe is null) return;
            _experts = moe.RoutedExperts;
            _expertsPerRow = moe.ExpertsPerToken;
            _expertWidth = moe.ExpertIntermediateSize;
            long pairs = (long)maxRows * _expertsPerRow;
            _routerLogits = Floats(backend, (long)maxRows * _experts);
            _expertWeights = Floats(backend, pairs);
            _expertIds = Track(backend.Allocate<int>(checked((int)pairs)));
            _expertGateUp = Floats(backend, pairs * 2 * _expertWidth);
            _expertActivated = Floats(backend, pairs * _expertWidth);
            _expertOutputs = Floats(backend, pairs * _hiddenSize);
            _sharedExpertOutput = Floats(backend, (long)maxRows * _hiddenSize);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private DeviceSpan<float> Floats(IComputeBackend backend, long length) => Track(backend.Allocate<float>(checked((int)length)));

    private DeviceSpan<T> Track<T>(DeviceSpan<T> span) where T : unmanaged
    {
        _memory.Add(span.Memory);
        return span;
    }

    public DeviceSpan<float> Hidden(int rows) => _hidden.Take(rows * _hiddenSize);
    public DeviceSpan<float> Normed(int rows) => _normed.Take(rows * _hiddenSize);
    public DeviceSpan<float> Projected(int rows) => _projected.Take(rows * _hiddenSize);
    /// <summary>(rows, heads·headDim) queries, then (rows, kvHeads·headDim) keys and values: one multiplication fills all three.</summary>
    public DeviceSpan<float> QueryKeyValue(int rows) => _queryKeyValue.Take(rows * (_queryWidth + 2 * _kvWidth));
    public DeviceSpan<float> AttentionOutput(int rows) => _attention.Take(rows * _queryWidth);
    /// <summary>An MLP's gate and up projections of <paramref name="width"/> each: fused per row, or [rows, width] gate then up.</summary>
    public DeviceSpan<float> GateUp(int rows, int width) => _gateUp.Take(rows * 2 * width);
    public DeviceSpan<float> Intermediate(int rows, int width) => _intermediate.Take(rows * width);
    /// <summary>(rows, vocab) for at most <see cref="LogitRowsPerPass"/> rows.</summary>
    public DeviceSpan<float> Logits(int rows) => _logits.Take(rows * _vocab);

    /// <summary>(rows, experts) router logits.</summary>
    public DeviceSpan<float> RouterLogits(int rows) => _routerLogits.Take(rows * _experts);
    /// <summary>(rows, k) chosen experts and their mixing weights.</summary>
    public DeviceSpan<int> ExpertIds(int rows) => _expertIds.Take(rows * _expertsPerRow);
    public DeviceSpan<float> ExpertWeights(int rows) => _expertWeights.Take(rows * _expertsPerRow);
    /// <summary>(pairs, expert width) gate products, then the same of up products.</summary>
    public DeviceSpan<float> ExpertGateUp(int pairs) => _expertGateUp.Take(pairs * 2 * _expertWidth);
    public DeviceSpan<float> ExpertActivated(int pairs) => _expertActivated.Take(pairs * _expertWidth);
    /// <summary>(pairs, hidden) expert outputs before they are weighted into their rows.</summary>
    public DeviceSpan<float> ExpertOutputs(int pairs) => _expertOutputs.Take(pairs * _hiddenSize);
    /// <summary>(rows, hidden) output of the shared experts, added after the routed ones.</summary>
    public DeviceSpan<float> SharedExpertOutput(int rows) => _sharedExpertOutput.Take(rows * _hiddenSize);

    public void Dispose()
    {
        foreach (var memory in _memory) memory.Dispose();
    }
}
