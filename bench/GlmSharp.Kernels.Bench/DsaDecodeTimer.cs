using System.Diagnostics;
using GlmSharp.Batching;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Kernels.Bench;

/// <summary>
/// One decode row of one GLM-5 layer's attention over a context of <c>depth</c> cached positions: MLA's absorbed
/// attention over every position (dense), over top-k chosen ones (DeepSeek sparse attention, gathered), and the
/// lightning indexer's scoring and top-k over F16 keys (fp32 dots) and Q8_0 keys (int8 dots). GLM-5's widths: 64 heads
/// (GLM-4.7-Flash: 20) over [rope 64 ; latent 512], top-k 2048, 32 indexer heads of 128.
/// </summary>
internal sealed class DsaDecodeTimer : IDisposable
{
    public const int Glm5Heads = 64, Rope = 64, Latent = 512, TopK = 2048, IndexerHeads = 32, IndexerWidth = 128;
    private const int BlockPositions = 64;

    private readonly CpuBackend _backend;
    private readonly PagedKvCache _cache;
    private readonly int[] _slots, _tableStarts = [0], _blockIds;
    private readonly DeviceSpan<float> _q, _output, _indexerQ, _indexerWeights;
    private readonly KeySelection _selection;
    private readonly TimeSpan _sampleTime;
    private readonly bool _processorTime;
    private readonly int _heads;

    /// <param name="processorTime">Count the processor time this process spent rather than the time that passed: on a machine
    /// shared with other work, with one thread, that is the kernel's own cost, not the share of the cores it was given.</param>
    public DsaDecodeTimer(CpuBackend backend, int depth, int heads, KvCacheType latentType, TimeSpan sampleTime, bool processorTime)
    {
        _processorTime = processorTime;
        _heads = heads;
        _backend = backend;
        _sampleTime = sampleTime;
        var spec = new LayerCacheSpec([new CacheStream("latents", 1, Rope + Latent), new CacheStream("f16 keys", 1, IndexerWidth), new CacheStream("q8_0 keys", 1, IndexerWidth)]);
        var types = new Dictionary<string, KvCacheType> { ["f16 keys"] = KvCacheType.F16, ["q8_0 keys"] = KvCacheType.Q8_0 };
        _cache = new PagedKvCache(new KvBlockPool([spec], (depth + BlockPositions - 1) / BlockPositions, BlockPositions, latentType, backend, types));
        int sequence = _cache.CreateSequence();
        var random = new Random(3);
        const int chunk = 512;
        for (int first = 0; first < depth; first += chunk)
        {
            int rows = Math.Min(chunk, depth - first);
            _cache.Append([sequence], [rows]);
            var cacheRows = new CacheRows([.. Enumerable.Range(first, rows)], new int[rows], _cache.BlockTable(sequence));
            _backend.StoreRows(Stream(0), cacheRows, _backend.Upload<float>(Uniform(random, rows * (Rope + Latent))));
            var keys = _backend.Upload<float>(Uniform(random, rows * IndexerWidth));
            _backend.StoreRows(Stream(1), cacheRows, keys);
            _backend.StoreRows(Stream(2), cacheRows, keys);
        }
        _slots = [depth - 1];
        _blockIds = _cache.BlockTable(sequence).ToArray();
        _q = _backend.Upload<float>(Uniform(random, heads * (Rope + Latent)));
        _output = _backend.Allocate<float>(heads * Latent);
        _indexerQ = _backend.Upload<float>(Uniform(random, IndexerHeads * IndexerWidth));
        _indexerWeights = _backend.Upload<float>(Uniform(random, IndexerHeads));
        var chosen = Enumerable.Range(0, depth).OrderBy(_ => random.Next()).Take(Math.Min(TopK, depth)).Order().ToArray();
        _selection = new KeySelection(_backend.Upload<int>(chosen.Length == TopK ? chosen : new int[TopK]), TopK);
    }

    private PagedStream Stream(int stream) => _cache.Pool.Stream(0, stream);

    private CacheRows Row => new(_slots, _tableStarts, _blockIds);

    private static float[] Uniform(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    public double DenseAttention() => SecondsPerCall(() =>
        _backend.LatentAttention(_q, Row, Stream(0), Rope, Latent, _output, _heads, 0.1f));

    public double SparseAttention() => SecondsPerCall(() =>
        _backend.SparseLatentAttention(_q, Row, Stream(0), Rope, Latent, _output, _heads, 0.1f, _selection));

    /// <summary>Scoring and top-k over keys of <paramref name="keyType"/> (F16: fp32 dots; Q8_0: int8 dots); the chosen slots go to a scratch selection.</summary>
    public double Indexer(KvCacheType keyType)
    {
        var selection = new KeySelection(_backend.Allocate<int>(TopK), TopK);
        var keys = Stream(keyType == KvCacheType.Q8_0 ? 2 : 1);
        return SecondsPerCall(() => _backend.SelectKeys(_indexerQ, _indexerWeights, Row, keys, IndexerHeads, selection));
    }

    /// <summary>
    /// The indexer over F16 keys for the last <paramref name="rows"/> positions of the context as one prefill step of the
    /// sequence (each row sees the positions up to its own); also the multiply-adds of its scoring, 2·32·128 per (row, position) pair.
    /// </summary>
    public double IndexerPrefill(int rows, out double operations)
    {
        int depth = _slots[0] + 1;
        var random = new Random(7);
        var q = _backend.Upload<float>(Uniform(random, rows * IndexerHeads * IndexerWidth));
        var weights = _backend.Upload<float>(Uniform(random, rows * IndexerHeads));
        var selection = new KeySelection(_backend.Allocate<int>(rows * TopK), TopK);
        int[] slots = [.. Enumerable.Range(depth - rows, rows)];
        var tableStarts = new int[rows];
        long pairs = slots.Sum(slot => (long)slot + 1);
        operations = 2.0 * IndexerHeads * IndexerWidth * pairs;
        return SecondsPerCall(() => _backend.SelectKeys(q, weights, new CacheRows(slots, tableStarts, _blockIds), Stream(1), IndexerHeads, selection));
    }

    private double SecondsPerCall(Action call)
    {
        call();
        long calls = 0;
        using var process = Process.GetCurrentProcess();
        var processorStart = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < _sampleTime || calls == 0)
        {
            call();
            calls++;
        }
        process.Refresh();
        var spent = _processorTime ? process.TotalProcessorTime - processorStart : clock.Elapsed;
        return spent.TotalSeconds / calls;
    }

    public void Dispose() => _cache.Dispose();
}
