using System.Numerics.Tensors;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Portable multi-threaded CPU implementation. Quantized weights are decoded one row at a time and the
/// decoded row is reused for every token of the batch, so prefill pays the decoding once per weight row.
/// </summary>
public sealed unsafe class CpuBackend : IComputeBackend
{
    /// <summary>Rows of a weight matrix one worker takes at a time: enough to amortise scheduling, few enough to balance.</summary>
    private const int RowsPerTask = 16;

    public static CpuBackend Instance { get; } = new();

    public string Name => "cpu";

    public void MatMul(TensorView weight, ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        int outputs = checked((int)weight.Shape[0]);
        int inputs = checked((int)weight.Shape[1]);
        if (x.Length < rows * inputs || y.Length < rows * outputs)
            throw new ArgumentException($"MatMul {weight.Name}: buffers too small for {rows} rows of [{outputs},{inputs}]");
        fixed (float* xp = x, yp = y)
        {
            float* xPtr = xp, yPtr = yp;
            int tasks = (outputs + RowsPerTask - 1) / RowsPerTask;
            if (tasks == 1 || (long)outputs * inputs * rows < 32_768)
                MatMulRows(weight, xPtr, yPtr, rows, inputs, outputs, 0, outputs);
            else
                Parallel.For(0, tasks, t =>
                {
                    int first = t * RowsPerTask;
                    MatMulRows(weight, xPtr, yPtr, rows, inputs, outputs, first, Math.Min(outputs, first + RowsPerTask));
                });
        }
    }

    private static void MatMulRows(TensorView weight, float* x, float* y, int rows, int inputs, int outputs, int firstRow, int endRow)
    {
        long rowBytes = GgmlTypeInfo.RowByteSize(weight.Type, inputs);
        float[]? decoded = weight.Type == GgmlType.F32 ? null : System.Buffers.ArrayPool<float>.Shared.Rent(inputs);
        try
        {
            for (int o = firstRow; o < endRow; o++)
            {
                byte* rowPtr = weight.Data + o * rowBytes;
                ReadOnlySpan<float> w;
                if (decoded is null)
                    w = new ReadOnlySpan<float>(rowPtr, inputs);
                else
                {
                    TensorCodec.DequantizeRow(weight.Type, rowPtr, decoded.AsSpan(0, inputs));
                    w = decoded.AsSpan(0, inputs);
                }
                for (int r = 0; r < rows; r++)
                    y[(long)r * outputs + o] = TensorPrimitives.Dot(w, new ReadOnlySpan<float>(x + (long)r * inputs, inputs));
            }
        }
        finally
        {
            if (decoded is not null) System.Buffers.ArrayPool<float>.Shared.Return(decoded);
        }
    }

    public void GatherRow(TensorView table, int row, Span<float> dst)
    {
        int width = checked((int)table.Shape[1]);
        long rowBytes = GgmlTypeInfo.RowByteSize(table.Type, width);
        TensorCodec.DequantizeRow(table.Type, table.Data + row * rowBytes, dst[..width]);
    }

    public void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y, int rows)
    {
        int width = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            var dst = y.Slice(r * width, width);
            float sumSquares = TensorPrimitives.Dot(row, row);
            float scale = 1f / MathF.Sqrt(sumSquares / width + eps);
            TensorPrimitives.Multiply(row, scale, dst);
            TensorPrimitives.Multiply(dst, weight, dst);
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
        for (int r = 0; r < rows; r++)
        {
            var gate = gateUp.Slice(r * 2 * intermediate, intermediate);
            var up = gateUp.Slice(r * 2 * intermediate + intermediate, intermediate);
            var dst = output.Slice(r * intermediate, intermediate);
            for (int i = 0; i < intermediate; i++)
            {
                float g = gate[i];
                dst[i] = g / (1f + MathF.Exp(-g)) * up[i];
            }
        }
    }

    public void Rope(Span<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope)
    {
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
                rope.Apply(x.Slice((r * heads + h) * headDim, headDim), positions[r]);
    }

    public void Attention(ReadOnlySpan<float> q, int rows, int firstPosition, LayerKvCache cache, Span<float> output, int heads, float scale)
    {
        int headDim = cache.HeadDim;
        int group = heads / cache.KvHeads;
        fixed (float* qp = q, op = output)
        {
            float* qPtr = qp, oPtr = op;
            Parallel.For(0, rows * heads, job =>
            {
                int r = job / heads, h = job % heads;
                AttendOneHead(new ReadOnlySpan<float>(qPtr + (long)job * headDim, headDim), firstPosition + r, cache,
                    h / group, new Span<float>(oPtr + (long)job * headDim, headDim), scale);
            });
        }
    }

    private static void AttendOneHead(ReadOnlySpan<float> query, int lastPosition, LayerKvCache cache, int kvHead, Span<float> output, float scale)
    {
        int headDim = cache.HeadDim;
        int length = lastPosition + 1;
        float[] scores = System.Buffers.ArrayPool<float>.Shared.Rent(length);
        try
        {
            for (int p = 0; p < length; p++)
                scores[p] = TensorPrimitives.Dot(query, cache.KeyRow(p).Slice(kvHead * headDim, headDim)) * scale;
            var probabilities = scores.AsSpan(0, length);
            TensorPrimitives.SoftMax(probabilities, probabilities);
            output.Clear();
            for (int p = 0; p < length; p++)
                TensorPrimitives.MultiplyAdd(cache.ValueRow(p).Slice(kvHead * headDim, headDim), probabilities[p], output, output);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scores);
        }
    }
}
