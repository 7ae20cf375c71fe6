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

    public void MatMul(TensorView weight, ReadOnlySpan<float> x, Span<float> y, int rows) => MatMul([weight], x, y, rows);

    public void MatMul(ReadOnlySpan<TensorView> weights, ReadOnlySpan<float> x, Span<float> y, int rows)
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
        fixed (float* xp = x, yp = y)
        {
            var workspace = _workspaces.Value!;
            CpuMatMul.Run(_pool, Isa, Int8, weights, xp, yp, rows, ref workspace.Activations, workspace.ThreadScratch);
        }
    }

    public void GatherRow(TensorView table, int row, Span<float> dst)
    {
        int width = checked((int)table.Shape[1]);
        if (table.Scales is not null)
        {
            Fp8E4M3.DequantizeRow(table, row, dst);
            return;
        }
        long rowBytes = GgmlTypeInfo.RowByteSize(table.Type, width);
        if (GgmlTypeInfo.IsRepacked(table.Type))
        {
            GatherRepackedRow(table, row, rowBytes, dst[..width]);
            return;
        }
        TensorCodec.DequantizeRow(table.Type, table.Data + row * rowBytes, dst[..width]);
    }

    /// <summary>A row of a repacked matrix, put back in its stored layout block by block (no row-sized buffer).</summary>
    private static void GatherRepackedRow(TensorView table, int row, long rowBytes, Span<float> dst)
    {
        var stored = GgmlTypeInfo.StoredType(table.Type);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(stored), block = GgmlTypeInfo.BlockSize(stored);
        var copy = stackalloc byte[blockBytes];
        for (int b = 0; b < dst.Length / block; b++)
        {
            Int8Repack.CopyBlock(table.Type, table.Data, rowBytes, row, b, copy);
            TensorCodec.DequantizeRow(stored, new ReadOnlySpan<byte>(copy, blockBytes), dst.Slice(b * block, block));
        }
    }

    public void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y, int rows)
    {
        if (x.Length < rows * weight.Length || y.Length < rows * weight.Length)
            throw new ArgumentException($"RmsNorm: buffers too small for {rows} rows of {weight.Length}");
        fixed (float* xp = x, wp = weight, yp = y)
        {
            CpuRowOps.RmsNorm(_pool, xp, wp, eps, yp, rows, weight.Length);
        }
    }

    public void AddBias(Span<float> x, ReadOnlySpan<float> bias, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    public void Add(Span<float> x, ReadOnlySpan<float> y) => TensorPrimitives.Add(x, y, x);

    public void SwiGlu(ReadOnlySpan<float> gateUp, Span<float> output, int rows, int intermediate)
    {
        if (gateUp.Length < rows * 2 * intermediate || output.Length < rows * intermediate)
            throw new ArgumentException($"SwiGlu: buffers too small for {rows} rows of {intermediate}");
        fixed (float* gp = gateUp, op = output)
        {
            CpuRowOps.SwiGlu(_pool, gp, op, rows, intermediate);
        }
    }

    public void Rope(Span<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope)
    {
        int components = rope.PositionComponents;
        if (positions.Length != rows * components || headDim < rope.RotaryDims || x.Length < (long)rows * heads * headDim)
            throw new ArgumentException(
                $"Rope: {rows} rows × {heads} heads × {headDim} need {rows * components} positions ({components} per row) and head_dim ≥ {rope.RotaryDims}; got {positions.Length} positions and {x.Length} values");
        Span<float> cos = stackalloc float[rope.RotaryDims / 2];
        Span<float> sin = stackalloc float[rope.RotaryDims / 2];
        for (int r = 0; r < rows; r++)
        {
            rope.Angles(positions.Slice(r * components, components), cos, sin);
            for (int h = 0; h < heads; h++)
                rope.Apply(x.Slice((r * heads + h) * headDim, headDim), cos, sin);
        }
    }

    public void StoreRows(PagedStream stream, CacheRows rows, ReadOnlySpan<float> values) => CpuCacheStore.Store(stream, rows, values);

    public void Attention(ReadOnlySpan<float> q, CacheRows rows, PagedStream keys, PagedStream values, Span<float> output, int heads, float scale)
    {
        long width = (long)rows.Count * heads * keys.Width;
        if (keys.Heads != values.Heads || keys.Width != values.Width || keys.ElementType != values.ElementType || keys.BlockPositions != values.BlockPositions)
            throw new ArgumentException($"attention: keys ({keys.Heads}×{keys.Width} {keys.ElementType}) and values ({values.Heads}×{values.Width} {values.ElementType}) must have one layout");
        if (heads % keys.Heads != 0 || q.Length < width || output.Length < width)
            throw new ArgumentException($"attention of {rows.Count} rows × {heads} heads does not fit {keys.Heads} kv heads × {keys.Width}");
        fixed (float* qp = q, op = output)
        {
            var workspace = _workspaces.Value!;
            CpuAttention.Run(_pool, Isa, qp, rows, keys, values, op, heads, scale, workspace.ThreadScratch, ref workspace.AttentionPartials);
        }
    }

    public void RouteExperts(ReadOnlySpan<float> logits, int rows, MoeRouting routing, Span<int> experts, Span<float> weights)
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
        for (int r = 0; r < rows; r++)
            CpuMoe.Route(logits.Slice(r * n, n), routing, experts.Slice(r * k, k), weights.Slice(r * k, k),
                workspace.RouterScores.AsSpan(0, n), workspace.RouterSelection.AsSpan(0, n));
    }

    public void MatMulExperts(ReadOnlySpan<TensorView> experts, ReadOnlySpan<float> x, bool inputPerSlot, ReadOnlySpan<int> ids, int rows, int slots, Span<float> y)
    {
        if (experts.IsEmpty) throw new ArgumentException("MatMulExperts: no experts");
        long inputs = experts[0].Shape[1], outputs = experts[0].Shape[0];
        foreach (var expert in experts)
            if (expert.Shape.Length != 2 || expert.Shape[0] != outputs || expert.Shape[1] != inputs)
                throw new ArgumentException($"MatMulExperts: {expert.Name} is {expert.ShapeText}, the experts are [{outputs},{inputs}]");
        int pairs = rows * slots;
        if (ids.Length < pairs || x.Length < (inputPerSlot ? pairs : rows) * inputs || y.Length < pairs * outputs)
            throw new ArgumentException($"MatMulExperts: buffers too small for {rows} rows × {slots} slots of [{outputs},{inputs}]");
        foreach (int id in ids[..pairs])
            if ((uint)id >= (uint)experts.Length) throw new ArgumentException($"MatMulExperts: expert id {id} outside 0..{experts.Length - 1}");
        var workspace = _workspaces.Value!;
        CpuMoe.MatMulExperts(experts, x, inputPerSlot, ids, rows, slots, y, ref workspace.ExpertScratch, _pool, Isa, Int8, ref workspace.Activations, workspace.ThreadScratch);
    }

    public void AddWeightedSlots(Span<float> output, ReadOnlySpan<float> y, ReadOnlySpan<float> weights, int rows, int slots)
    {
        int width = output.Length / Math.Max(rows, 1);
        if (output.Length != rows * width || y.Length < rows * slots * width || weights.Length < rows * slots)
            throw new ArgumentException($"AddWeightedSlots: buffers do not hold {rows} rows × {slots} slots");
        for (int r = 0; r < rows; r++)
        {
            var row = output.Slice(r * width, width);
            for (int s = 0; s < slots; s++) TensorPrimitives.MultiplyAdd(y.Slice((r * slots + s) * width, width), weights[r * slots + s], row, row);
        }
    }

    public void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps, Span<float> y, int rows)
    {
        if (x.Length < rows * weight.Length || y.Length < rows * weight.Length || (!bias.IsEmpty && bias.Length != weight.Length))
            throw new ArgumentException($"LayerNorm: buffers too small for {rows} rows of {weight.Length}");
        CpuVisionOps.LayerNorm(x, weight, bias, eps, y, rows);
    }

    public void Gelu(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation)
    {
        if (y.Length < x.Length) throw new ArgumentException($"Gelu: {y.Length} outputs for {x.Length} inputs");
        CpuVisionOps.Gelu(x, y, approximation);
    }

    public void BidirectionalAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output, int tokens, int heads, int headDim, float scale)
    {
        long width = (long)tokens * heads * headDim;
        if (q.Length < width || k.Length < width || v.Length < width || output.Length < width)
            throw new ArgumentException($"BidirectionalAttention: buffers too small for {tokens} tokens × {heads} heads × {headDim}");
        var workspace = _workspaces.Value!;
        if (workspace.AttentionScores.Length < tokens) workspace.AttentionScores = new float[tokens];
        CpuVisionOps.BidirectionalAttention(q, k, v, output, tokens, heads, headDim, scale, workspace.AttentionScores);
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
