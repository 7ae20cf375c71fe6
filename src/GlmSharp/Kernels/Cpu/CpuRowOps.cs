using System.Numerics.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Row-wise element operations (RMSNorm, SwiGLU) on the worker pool. A decode step has one row and runs it on the
/// caller; prefill splits its rows over every thread, where done serially they were a few percent of the time.
/// </summary>
internal static unsafe class CpuRowOps
{
    private const int RowsPerItem = 8;

    private struct Job
    {
        public float* X, Y, Weight, Up;
        public int Width, Rows, InputStride;
        public float Eps;
    }

    public static void RmsNorm(WorkerPool pool, float* x, float* weight, float eps, float* y, int rows, int width)
    {
        var job = new Job { X = x, Y = y, Weight = weight, Eps = eps, Rows = rows, Width = width, InputStride = width };
        Run(pool, rows, &RmsNormRows, &job);
    }

    /// <summary>y[r, i] = silu(gateUp[r, i])·gateUp[r, I + i] for rows of gate then up.</summary>
    public static void SwiGlu(WorkerPool pool, float* gateUp, float* y, int rows, int intermediate) =>
        SwiGlu(pool, gateUp, gateUp + intermediate, 2 * intermediate, y, rows, intermediate);

    /// <summary>y[r, i] = silu(gate[r·stride + i])·up[r·stride + i].</summary>
    public static void SwiGlu(WorkerPool pool, float* gate, float* up, int inputStride, float* y, int rows, int width)
    {
        var job = new Job { X = gate, Up = up, Y = y, Rows = rows, Width = width, InputStride = inputStride };
        Run(pool, rows, &SwiGluRows, &job);
    }

    private static void Run(WorkerPool pool, int rows, delegate*<void*, int, int, void> body, Job* job)
    {
        if (rows < 2 * RowsPerItem) body(job, 0, 0);
        else pool.For((rows + RowsPerItem - 1) / RowsPerItem, body, job);
    }

    private static (int First, int End) Range(Job* job, int item) =>
        job->Rows < 2 * RowsPerItem ? (0, job->Rows) : (item * RowsPerItem, Math.Min(job->Rows, (item + 1) * RowsPerItem));

    private static void RmsNormRows(void* context, int item, int thread)
    {
        var job = (Job*)context;
        var (first, end) = Range(job, item);
        var weight = new ReadOnlySpan<float>(job->Weight, job->Width);
        for (int r = first; r < end; r++)
        {
            var row = new ReadOnlySpan<float>(job->X + (long)r * job->Width, job->Width);
            var dst = new Span<float>(job->Y + (long)r * job->Width, job->Width);
            float sumSquares = TensorPrimitives.Dot(row, row);
            float scale = 1f / MathF.Sqrt(sumSquares / job->Width + job->Eps);
            TensorPrimitives.Multiply(row, scale, dst);
            TensorPrimitives.Multiply(dst, weight, dst);
        }
    }

    private static void SwiGluRows(void* context, int item, int thread)
    {
        var job = (Job*)context;
        var (first, end) = Range(job, item);
        for (int r = first; r < end; r++)
        {
            var gate = new ReadOnlySpan<float>(job->X + (long)r * job->InputStride, job->Width);
            var up = new ReadOnlySpan<float>(job->Up + (long)r * job->InputStride, job->Width);
            var dst = new Span<float>(job->Y + (long)r * job->Width, job->Width);
            TensorPrimitives.Sigmoid(gate, dst);
            TensorPrimitives.Multiply(dst, gate, dst);
            TensorPrimitives.Multiply(dst, up, dst);
        }
    }
}
