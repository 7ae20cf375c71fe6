using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Multi-threaded SIMD CPU implementation on a persistent worker pool. The kernel path (AVX-512, AVX2,
/// portable or scalar) is fixed when the backend is made; <see cref="Instance"/> uses the best one this CPU has
/// and one thread per core. Callers on different threads may share a backend without a lock around it: each calling
/// thread computes in its own <see cref="CpuWorkspace"/>, and only operations that fan out to the worker pool take
/// turns there (it already keeps every core busy).
/// </summary>
public sealed unsafe class CpuBackend : IComputeBackend, IDisposable
{
    public static CpuBackend Instance { get; } = new();

    private readonly WorkerPool _pool;
    private readonly ThreadLocal<CpuWorkspace> _workspaces;
    private bool _disposed;

    public CpuIsa Isa { get; }
    internal Int8Path Int8 { get; }

    /// <summary>
    /// The int8 indexer: a DSA indexer's keys cached as Q8_0 are scored in integer dot products against Q8_0 queries.
    /// Those are not llama.cpp's scores (it decodes the keys to fp32), so a top-k near a tie of scores may differ from
    /// llama.cpp's choice; off by default. Keys are Q8_0 under a Q8_0 cache, or by a pool's stream types.
    /// </summary>
    public bool Int8Indexer { get; init; }
    public int Threads => _pool.Threads;
    public string Name => $"cpu ({Isa}, {Threads} threads)";

    /// <param name="threads">Compute threads, the caller included; defaults to the number of logical CPUs.</param>
    /// <param name="isa">Kernel path; defaults to <see cref="CpuIsaSupport.Best"/>. Must be supported by this CPU.</param>
    public CpuBackend(int? threads = null, CpuIsa? isa = null) : this(threads, isa, null)
    {
    }

    /// <param name="int8">Q8_0 / Q4_0 kernels; defaults to <see cref="Int8Paths.For"/> the ISA. The SIMD int8 paths
    /// need an ISA of at least <see cref="CpuIsa.Avx2"/>, whose activation quantizer writes their layouts.</param>
    internal CpuBackend(int? threads, CpuIsa? isa, Int8Path? int8)
    {
        Isa = isa ?? CpuIsaSupport.Best;
        if (!CpuIsaSupport.IsSupported(Isa)) throw new PlatformNotSupportedException($"this CPU cannot run the {Isa} kernels");
        Int8 = int8 ?? Int8Paths.For(Isa);
        if (!Int8Paths.IsSupported(Int8)) throw new PlatformNotSupportedException($"this CPU cannot run the {Int8} int8 kernels");
        if (Int8 >= Int8Path.Avx2Maddubs && Isa < CpuIsa.Avx2)
            throw new ArgumentException($"the {Int8} int8 kernels need the {CpuIsa.Avx2} path or better, not {Isa}", nameof(int8));
        _pool = new WorkerPool(threads ?? Environment.ProcessorCount);
        _workspaces = new ThreadLocal<CpuWorkspace>(() => new CpuWorkspace(_pool.Threads), trackAllValues: true);
    }

    /// <summary>
    /// On plain AVX2, Q4_0 and Q8_0 matrices of whole groups of eight rows are repacked (<see cref="Int8Repack"/>) on the
    /// worker pool; every other matrix, and every matrix on other paths, is used where it is stored.
    /// </summary>
    public TensorView PrepareMatrix(TensorView stored) =>
        TakesRepacked && Int8Repack.RepackedType(stored) is { } repacked ? Int8Repack.Repack(_pool, stored, repacked) : stored;

    /// <summary>The repacked kernels use vpmaddubsw with 16-bit sums, measured on plain AVX2 only.</summary>
    private bool TakesRepacked => Int8 == Int8Path.Avx2Maddubs;

    public DeviceMemory Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new HostMemory(bytes);
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length) throw new ArgumentException($"Upload: {source.Length} values into a span of {destination.Length}");
        source.CopyTo(Host(destination));
    }

    public void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length) throw new ArgumentException($"Download: a span of {source.Length} into {destination.Length} values");
        Host(source).CopyTo(destination);
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length) throw new ArgumentException($"Copy: a span of {source.Length} into one of {destination.Length}");
        Host(source).CopyTo(Host(destination));
    }

    /// <summary>The span's values where this backend reads them: any <see cref="HostMemory"/>, whichever CPU backend allocated it.</summary>
    internal static Span<T> Host<T>(DeviceSpan<T> span) where T : unmanaged
    {
        if (span.IsEmpty) return [];
        if (span.Memory is not HostMemory host)
            throw new ArgumentException($"the CPU backend cannot read {span.Memory.GetType().Name}: allocate activations with the backend that computes on them");
        return new Span<T>(host.Pointer + span.ByteOffset, span.Length);
    }

    public void MatMul(TensorView weight, DeviceSpan<float> x, DeviceSpan<float> y, int rows) => MatMul([weight], x, y, rows);

    public void MatMul(ReadOnlySpan<TensorView> weights, DeviceSpan<float> x, DeviceSpan<float> y, int rows)
    {
        long totalOutputs = 0;
        foreach (var weight in weights)
        {
            int outputs = checked((int)weight.Shape[0]);
            int inputs = checked((int)weight.Shape[1]);
            if (inputs != weights[0].Shape[1])
                throw new ArgumentException($"MatMul: {weight.Name} takes {inputs} inputs, {weights[0].Name} {weights[0].Shape[1]}; projections of one input must agree");
            if (GgmlTypeInfo.IsRepacked(weight.Type) && !TakesRepacked)
                throw new ArgumentException($"MatMul: {weight.Name} was repacked ({weight.Type}) for the {Int8Path.Avx2Maddubs} kernels; this backend runs {Int8}");
            if (!TensorCodec.Supports(weight.Type) && !GgmlTypeInfo.IsRepacked(weight.Type))
                throw new Errors.UnsupportedModelException($"{weight.Origin}: tensor '{weight.Name}' has element type {weight.Type}, which the CPU backend cannot multiply");
            totalOutputs += outputs;
        }
        if (weights.IsEmpty || x.Length < (long)rows * weights[0].Shape[1] || y.Length < rows * totalOutputs)
            throw new ArgumentException($"MatMul {(weights.IsEmpty ? "of no weights" : weights[0].Name)}: buffers too small for {rows} rows of {totalOutputs} outputs");
        fixed (float* xp = Host(x), yp = Host(y))
        {
            var workspace = _workspaces.Value!;
            CpuMatMul.Run(_pool, Isa, Int8, weights, xp, yp, rows, ref workspace.Activations, workspace.ThreadScratch);
        }
    }

    public void GatherRows(TensorView table, ReadOnlySpan<int> ids, DeviceSpan<float> destination)
    {
        int width = checked((int)table.Shape[1]);
        if (destination.Length < (long)ids.Length * width)
            throw new ArgumentException($"GatherRows: {destination.Length} values cannot hold {ids.Length} rows of {width}");
        var rows = Host(destination);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (ulong)table.Shape[0]) throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"{table.Name} has {table.Shape[0]} rows");
            if (GgmlTypeInfo.IsRepacked(table.Type)) GatherRepackedRow(table, ids[i], rows.Slice(i * width, width));
            else TensorRows.Decode(table, ids[i], rows.Slice(i * width, width));
        }
    }

    /// <summary>A row of a repacked matrix, put back in its stored layout block by block (no row-sized buffer).</summary>
    private static void GatherRepackedRow(TensorView table, int row, Span<float> destination)
    {
        var stored = GgmlTypeInfo.StoredType(table.Type);
        long rowBytes = GgmlTypeInfo.RowByteSize(table.Type, table.Shape[1]);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(stored), block = GgmlTypeInfo.BlockSize(stored);
        var copy = stackalloc byte[blockBytes];
        for (int b = 0; b < destination.Length / block; b++)
        {
            Int8Repack.CopyBlock(table.Type, table.Data, rowBytes, row, b, copy);
            TensorCodec.DequantizeRow(stored, new ReadOnlySpan<byte>(copy, blockBytes), destination.Slice(b * block, block));
        }
    }

    public void RmsNorm(DeviceSpan<float> x, DeviceSpan<float> weight, float eps, DeviceSpan<float> y, int rows)
    {
        if (x.Length < rows * weight.Length || y.Length < rows * weight.Length)
            throw new ArgumentException($"RmsNorm: buffers too small for {rows} rows of {weight.Length}");
        fixed (float* xp = Host(x), wp = Host(weight), yp = Host(y))
        {
            CpuRowOps.RmsNorm(_pool, xp, wp, eps, yp, rows, weight.Length);
        }
    }

    public void AddBias(DeviceSpan<float> x, DeviceSpan<float> bias, int rows)
    {
        if (x.Length < rows * bias.Length) throw new ArgumentException($"AddBias: {x.Length} values hold fewer than {rows} rows of {bias.Length}");
        var values = Host(x);
        var b = Host(bias);
        for (int r = 0; r < rows; r++)
        {
            var row = values.Slice(r * b.Length, b.Length);
            TensorPrimitives.Add(row, b, row);
        }
    }

    public void Fill(DeviceSpan<float> x, float value) => Host(x).Fill(value);

    public void Add(DeviceSpan<float> x, DeviceSpan<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Add: spans of {x.Length} and {y.Length} values");
        var sum = Host(x);
        TensorPrimitives.Add(sum, Host(y), sum);
    }

    public void SwiGlu(DeviceSpan<float> gateUp, DeviceSpan<float> output, int rows, int intermediate)
    {
        if (gateUp.Length < rows * 2 * intermediate || output.Length < rows * intermediate)
            throw new ArgumentException($"SwiGlu: buffers too small for {rows} rows of {intermediate}");
        fixed (float* gp = Host(gateUp), op = Host(output))
        {
            CpuRowOps.SwiGlu(_pool, gp, op, rows, intermediate);
        }
    }

    public void SwiGlu(DeviceSpan<float> gate, DeviceSpan<float> up, DeviceSpan<float> output, int rows, int width)
    {
        if (gate.Length < rows * width || up.Length < rows * width || output.Length < rows * width)
            throw new ArgumentException($"SwiGlu: buffers too small for {rows} rows of {width}");
        fixed (float* gp = Host(gate), upp = Host(up), op = Host(output))
        {
            CpuRowOps.SwiGlu(_pool, gp, upp, width, op, rows, width);
        }
    }

    public void Rope(DeviceSpan<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope)
    {
        int components = rope.PositionComponents;
        if (positions.Length != rows * components || headDim < rope.RotaryDims || x.Length < (long)rows * heads * headDim)
            throw new ArgumentException(
                $"Rope: {rows} rows × {heads} heads × {headDim} need {rows * components} positions ({components} per row) and head_dim ≥ {rope.RotaryDims}; got {positions.Length} positions and {x.Length} values");
        var values = Host(x);
        Span<float> cos = stackalloc float[rope.RotaryDims / 2];
        Span<float> sin = stackalloc float[rope.RotaryDims / 2];
        for (int r = 0; r < rows; r++)
        {
            rope.Angles(positions.Slice(r * components, components), cos, sin);
            for (int h = 0; h < heads; h++)
                rope.Apply(values.Slice((r * heads + h) * headDim, headDim), cos, sin);
        }
    }

    public void StoreRows(PagedStream stream, CacheRows rows, DeviceSpan<float> values) => CpuCacheStore.Store(stream, rows, Host(values));

    public void Attention(DeviceSpan<float> q, CacheRows rows, PagedStream keys, PagedStream values, DeviceSpan<float> output, int heads, float scale)
    {
        long width = (long)rows.Count * heads * keys.Width;
        if (keys.Heads != values.Heads || keys.Width != values.Width || keys.ElementType != values.ElementType || keys.BlockPositions != values.BlockPositions)
            throw new ArgumentException($"attention: keys ({keys.Heads}×{keys.Width} {keys.ElementType}) and values ({values.Heads}×{values.Width} {values.ElementType}) must have one layout");
        if (heads % keys.Heads != 0 || q.Length < width || output.Length < width)
            throw new ArgumentException($"attention of {rows.Count} rows × {heads} heads does not fit {keys.Heads} kv heads × {keys.Width}");
        fixed (float* qp = Host(q), op = Host(output))
        {
            var workspace = _workspaces.Value!;
            CpuAttention.Run(_pool, Isa, qp, rows, keys, values, op, heads, scale, workspace.ThreadScratch, ref workspace.AttentionPartials);
        }
    }

    public void LatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads, float scale)
    {
        CheckLatentAttention(q, rows, latents, valueOffset, valueWidth, output, heads);
        fixed (float* qp = Host(q), op = Host(output))
        {
            var workspace = _workspaces.Value!;
            CpuAttention.RunLatent(_pool, Isa, qp, rows, latents, valueOffset, valueWidth, op, heads, scale, null, 0, workspace.ThreadScratch,
                ref workspace.AttentionPartials);
        }
    }

    public void SparseLatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads,
        float scale, KeySelection selection)
    {
        CheckLatentAttention(q, rows, latents, valueOffset, valueWidth, output, heads);
        CheckSelection(rows, selection);
        fixed (float* qp = Host(q), op = Host(output))
        fixed (int* chosen = Host(selection.Slots))
        {
            var workspace = _workspaces.Value!;
            CpuAttention.RunLatent(_pool, Isa, qp, rows, latents, valueOffset, valueWidth, op, heads, scale, chosen, selection.TopK, workspace.ThreadScratch,
                ref workspace.AttentionPartials);
        }
    }

    public void SelectKeys(DeviceSpan<float> q, DeviceSpan<float> weights, CacheRows rows, PagedStream keys, int heads, KeySelection selection)
    {
        if (keys.Heads != 1 || q.Length < (long)rows.Count * heads * keys.Width || weights.Length < (long)rows.Count * heads)
            throw new ArgumentException($"key selection of {rows.Count} rows × {heads} heads does not fit q, weights or keys ({keys.Heads}×{keys.Width})");
        CheckSelection(rows, selection);
        fixed (float* qp = Host(q), wp = Host(weights))
        fixed (int* chosen = Host(selection.Slots))
            CpuKeySelection.Run(_pool, Isa, Int8Indexer, qp, wp, rows, keys, heads, selection.TopK, chosen, _workspaces.Value!.ThreadScratch);
    }

    private static void CheckLatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads)
    {
        if (latents.Heads != 1 || valueOffset < 0 || valueWidth <= 0 || valueOffset + valueWidth > latents.Width)
            throw new ArgumentException($"latent attention: values {valueOffset}..{valueOffset + valueWidth} must lie in the one head of {latents.Heads}×{latents.Width}");
        if (latents.ElementType == KvCacheType.Q8_0 && valueOffset % Q8_0.BlockSize != 0)
            throw new ArgumentException($"latent attention: a q8_0 cache row's values must start on a {Q8_0.BlockSize}-value block, not at {valueOffset}");
        if (q.Length < (long)rows.Count * heads * latents.Width || output.Length < (long)rows.Count * heads * valueWidth)
            throw new ArgumentException($"latent attention of {rows.Count} rows × {heads} heads does not fit q or output");
    }

    private static void CheckSelection(CacheRows rows, KeySelection selection)
    {
        if (selection.TopK < 1 || selection.Slots.Length < (long)rows.Count * selection.TopK)
            throw new ArgumentException($"a selection of top {selection.TopK} for {rows.Count} rows needs {(long)rows.Count * selection.TopK} slots, has {selection.Slots.Length}");
    }

    public void RouteExperts(DeviceSpan<float> logits, int rows, MoeRouting routing, DeviceSpan<int> experts, DeviceSpan<float> weights)
    {
        routing.Validate();
        int n = routing.Experts, k = routing.ExpertsPerRow;
        if (logits.Length < rows * n || experts.Length < rows * k || weights.Length < rows * k)
            throw new ArgumentException($"RouteExperts: buffers too small for {rows} rows of {n} experts choosing {k}");
        var workspace = _workspaces.Value!;
        if (workspace.RouterScores.Length < n)
        {
            workspace.RouterScores = new float[n];
            workspace.RouterSelection = new float[n];
        }
        Span<float> scores = Host(logits), mixing = Host(weights);
        Span<int> chosen = Host(experts);
        for (int r = 0; r < rows; r++)
            CpuMoe.Route(scores.Slice(r * n, n), routing, chosen.Slice(r * k, k), mixing.Slice(r * k, k),
                workspace.RouterScores.AsSpan(0, n), workspace.RouterSelection.AsSpan(0, n));
    }

    public void MatMulExperts(ReadOnlySpan<TensorView> experts, DeviceSpan<float> x, bool inputPerSlot, DeviceSpan<int> ids, int rows, int slots, DeviceSpan<float> y)
    {
        if (experts.IsEmpty) throw new ArgumentException("MatMulExperts: no experts");
        long inputs = experts[0].Shape[1], outputs = experts[0].Shape[0];
        foreach (var expert in experts)
            if (expert.Shape.Length != 2 || expert.Shape[0] != outputs || expert.Shape[1] != inputs)
                throw new ArgumentException($"MatMulExperts: {expert.Name} is {expert.ShapeText}, the experts are [{outputs},{inputs}]");
        int pairs = rows * slots;
        if (ids.Length < pairs || x.Length < (inputPerSlot ? pairs : rows) * inputs || y.Length < pairs * outputs)
            throw new ArgumentException($"MatMulExperts: buffers too small for {rows} rows × {slots} slots of [{outputs},{inputs}]");
        ReadOnlySpan<int> chosen = Host(ids)[..pairs];
        foreach (int id in chosen)
            if ((uint)id >= (uint)experts.Length) throw new ArgumentException($"MatMulExperts: expert id {id} outside 0..{experts.Length - 1}");
        var workspace = _workspaces.Value!;
        CpuMoe.MatMulExperts(experts, Host(x), inputPerSlot, chosen, rows, slots, Host(y), ref workspace.ExpertScratch, _pool, Isa, Int8, ref workspace.Activations, workspace.ThreadScratch);
    }

    public void MatMulExperts(ReadOnlySpan<TensorView> gate, ReadOnlySpan<TensorView> up, DeviceSpan<float> x, DeviceSpan<int> ids, int rows, int slots,
        DeviceSpan<float> gateOut, DeviceSpan<float> upOut)
    {
        if (gate.Length != up.Length || gate.IsEmpty) throw new ArgumentException($"MatMulExperts: {gate.Length} gate and {up.Length} up experts");
        long inputs = gate[0].Shape[1], outputs = gate[0].Shape[0];
        for (int e = 0; e < 2 * gate.Length; e++)
        {
            var expert = e < gate.Length ? gate[e] : up[e - gate.Length];
            if (expert.Shape.Length != 2 || expert.Shape[0] != outputs || expert.Shape[1] != inputs)
                throw new ArgumentException($"MatMulExperts: {expert.Name} is {expert.ShapeText}, the experts are [{outputs},{inputs}]");
        }
        int pairs = rows * slots;
        if (ids.Length < pairs || x.Length < rows * inputs || gateOut.Length < pairs * outputs || upOut.Length < pairs * outputs)
            throw new ArgumentException($"MatMulExperts: buffers too small for {rows} rows × {slots} slots of [{outputs},{inputs}]");
        ReadOnlySpan<int> chosen = Host(ids)[..pairs];
        foreach (int id in chosen)
            if ((uint)id >= (uint)gate.Length) throw new ArgumentException($"MatMulExperts: expert id {id} outside 0..{gate.Length - 1}");
        var workspace = _workspaces.Value!;
        CpuMoe.MatMulGateUp(gate, up, Host(x), chosen, rows, slots, Host(gateOut), Host(upOut), ref workspace.ExpertScratch, _pool, Isa, Int8,
            ref workspace.Activations, workspace.ThreadScratch);
    }

    public void AddWeightedSlots(DeviceSpan<float> output, DeviceSpan<float> y, DeviceSpan<float> weights, int rows, int slots)
    {
        int width = output.Length / Math.Max(rows, 1);
        if (output.Length != rows * width || y.Length < rows * slots * width || weights.Length < rows * slots)
            throw new ArgumentException($"AddWeightedSlots: buffers do not hold {rows} rows × {slots} slots");
        Span<float> sums = Host(output), slotOutputs = Host(y), mixing = Host(weights);
        for (int r = 0; r < rows; r++)
        {
            var row = sums.Slice(r * width, width);
            for (int s = 0; s < slots; s++) TensorPrimitives.MultiplyAdd(slotOutputs.Slice((r * slots + s) * width, width), mixing[r * slots + s], row, row);
        }
    }

    public void LayerNorm(DeviceSpan<float> x, DeviceSpan<float> weight, DeviceSpan<float> bias, float eps, DeviceSpan<float> y, int rows)
    {
        if (x.Length < rows * weight.Length || y.Length < rows * weight.Length || (!bias.IsEmpty && bias.Length != weight.Length))
            throw new ArgumentException($"LayerNorm: buffers too small for {rows} rows of {weight.Length}");
        CpuVisionOps.LayerNorm(Host(x), Host(weight), Host(bias), eps, Host(y), rows);
    }

    public void Gelu(DeviceSpan<float> x, DeviceSpan<float> y, GeluApproximation approximation)
    {
        if (y.Length < x.Length) throw new ArgumentException($"Gelu: {y.Length} outputs for {x.Length} inputs");
        CpuVisionOps.Gelu(Host(x), Host(y), approximation);
    }

    public void BidirectionalAttention(DeviceSpan<float> q, DeviceSpan<float> k, DeviceSpan<float> v, DeviceSpan<float> output, int tokens, int heads, int headDim, float scale)
    {
        long width = (long)tokens * heads * headDim;
        if (q.Length < width || k.Length < width || v.Length < width || output.Length < width)
            throw new ArgumentException($"BidirectionalAttention: buffers too small for {tokens} tokens × {heads} heads × {headDim}");
        fixed (float* qp = Host(q), kp = Host(k), vp = Host(v), op = Host(output))
        {
            CpuBidirectionalAttention.Run(_pool, Isa, _workspaces.Value!, qp, kp, vp, op, tokens, heads, headDim, scale);
        }
    }

    public void Dispose()
    {
        if (_disposed || ReferenceEquals(this, Instance)) return;
        _disposed = true;
        _pool.Dispose();
        foreach (var workspace in _workspaces.Values) workspace.Dispose();
        _workspaces.Dispose();
    }
}
