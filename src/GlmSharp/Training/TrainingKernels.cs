using System.Numerics;
using System.Numerics.Tensors;

namespace GlmSharp.Training;

/// <summary>
/// The dense linear algebra of the trainer, kept in one place so the engine's CPU kernels can replace it.
/// Every matrix is row-major fp32. Work is split over rows with <see cref="Parallel.For(int, int, Action{int})"/>.
/// </summary>
public static unsafe class TrainingKernels
{
    private const int RowBlock = 4;
    private const int TileRows = 64;
    private const int TileCols = 256;
    private const int DepthBlock = 256;

    /// <summary>C[M,N] = A[M,K]·B[K,N], or C += A·B when <paramref name="accumulate"/>.</summary>
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate)
    {
        CheckLength(a, (long)m * k, "A");
        CheckLength(b, (long)k * n, "B");
        CheckLength(c, (long)m * n, "C");
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* aPtr = pa, bPtr = pb, cPtr = pc;
            int rowTiles = (m + TileRows - 1) / TileRows;
            int colTiles = (n + TileCols - 1) / TileCols;
            if (rowTiles * colTiles == 1) MatMulTile(aPtr, bPtr, cPtr, 0, m, 0, n, k, n, accumulate);
            else Parallel.For(0, rowTiles * colTiles, t =>
            {
                int r0 = t / colTiles * TileRows, c0 = t % colTiles * TileCols;
                MatMulTile(aPtr, bPtr, cPtr, r0, Math.Min(m, r0 + TileRows), c0, Math.Min(n, c0 + TileCols), k, n, accumulate);
            });
        }
    }

    /// <summary>dst[cols,rows] = srcᵀ (or dst += srcᵀ when <paramref name="accumulate"/>) for a row-major src[rows,cols].</summary>
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols, bool accumulate = false)
    {
        CheckLength(src, (long)rows * cols, "source");
        CheckLength(dst, (long)rows * cols, "destination");
        const int tile = 32;
        fixed (float* ps = src, pd = dst)
        {
            float* s = ps, d = pd;
            int tileRows = (rows + tile - 1) / tile;
            Parallel.For(0, tileRows, tr =>
            {
                int r0 = tr * tile, r1 = Math.Min(rows, r0 + tile);
                for (int c0 = 0; c0 < cols; c0 += tile)
                {
                    int c1 = Math.Min(cols, c0 + tile);
                    for (int r = r0; r < r1; r++)
                        for (int col = c0; col < c1; col++)
                        {
                            float value = s[(long)r * cols + col];
                            d[(long)col * rows + r] = accumulate ? d[(long)col * rows + r] + value : value;
                        }
                }
            });
        }
    }

    /// <summary>Column sums of x[rows,cols] added into sums[cols] (the gradient of a bias).</summary>
    public static void AddColumnSums(ReadOnlySpan<float> x, Span<float> sums, int rows, int cols)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, x.Slice(r * cols, cols), sums);
    }

    public static float Dot(float* x, float* y, int length) =>
        TensorPrimitives.Dot(new ReadOnlySpan<float>(x, length), new ReadOnlySpan<float>(y, length));

    /// <summary>y += alpha·x.</summary>
    public static void AddScaled(float* y, float* x, float alpha, int length) =>
        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(x, length), alpha, new ReadOnlySpan<float>(y, length),
            new Span<float>(y, length));

    // Blocked so that a B panel (depth slice × 2 vectors) stays in L1 while the row blocks of the tile sweep over it,
    // and the B tile (depth slice × tile columns) stays in L2 across the panels.
    private static void MatMulTile(float* a, float* b, float* c, int r0, int r1, int c0, int c1, int k, int n, bool accumulate)
    {
        int panel = 2 * Vector<float>.Count;
        int vectorEnd = c0 + (c1 - c0) / panel * panel;
        float* packed = stackalloc float[DepthBlock * panel];
        for (int p0 = 0; p0 < k; p0 += DepthBlock)
        {
            int depth = Math.Min(DepthBlock, k - p0);
            bool add = accumulate || p0 > 0;
            float* bSlice = b + (long)p0 * n;
            for (int j = c0; j < vectorEnd; j += panel)
            {
                // Packing the panel contiguously avoids the cache-set conflicts of rows a power-of-two stride apart.
                for (int p = 0; p < depth; p++)
                    Buffer.MemoryCopy(bSlice + (long)p * n + j, packed + p * panel, panel * sizeof(float), panel * sizeof(float));
                int i = r0;
                for (; i + RowBlock <= r1; i += RowBlock)
                    Panel4x2(a + (long)i * k + p0, k, packed, c + (long)i * n + j, depth, n, add);
                for (; i < r1; i++) Panel1x2(a + (long)i * k + p0, packed, c + (long)i * n + j, depth, n, add);
            }
        }
        for (int i = r0; i < r1; i++)
        {
            float* aRow = a + (long)i * k;
            for (int j = vectorEnd; j < c1; j++)
            {
                float sum = accumulate ? c[(long)i * n + j] : 0f;
                for (int p = 0; p < k; p++) sum += aRow[p] * b[(long)p * n + j];
                c[(long)i * n + j] = sum;
            }
        }
    }

    // A 4-row by 2-vector tile of C stays in registers while the shared dimension streams through;
    // b is a packed panel (k rows of 2 vectors), c has row stride n.
    private static void Panel4x2(float* a, int lda, float* b, float* c, int k, int n, bool accumulate)
    {
        int w = Vector<float>.Count;
        Vector<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector.Load(c); c01 = Vector.Load(c + w);
            c10 = Vector.Load(c + n); c11 = Vector.Load(c + n + w);
            c20 = Vector.Load(c + 2 * n); c21 = Vector.Load(c + 2 * n + w);
            c30 = Vector.Load(c + 3 * n); c31 = Vector.Load(c + 3 * n + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        for (int p = 0; p < k; p++)
        {
            float* bRow = b + p * 2 * w;
            var b0 = Vector.Load(bRow);
            var b1 = Vector.Load(bRow + w);
            var x = new Vector<float>(a0[p]);
            c00 = Vector.FusedMultiplyAdd(x, b0, c00); c01 = Vector.FusedMultiplyAdd(x, b1, c01);
            x = new Vector<float>(a1[p]);
            c10 = Vector.FusedMultiplyAdd(x, b0, c10); c11 = Vector.FusedMultiplyAdd(x, b1, c11);
            x = new Vector<float>(a2[p]);
            c20 = Vector.FusedMultiplyAdd(x, b0, c20); c21 = Vector.FusedMultiplyAdd(x, b1, c21);
            x = new Vector<float>(a3[p]);
            c30 = Vector.FusedMultiplyAdd(x, b0, c30); c31 = Vector.FusedMultiplyAdd(x, b1, c31);
        }
        Vector.Store(c00, c); Vector.Store(c01, c + w);
        Vector.Store(c10, c + n); Vector.Store(c11, c + n + w);
        Vector.Store(c20, c + 2 * n); Vector.Store(c21, c + 2 * n + w);
        Vector.Store(c30, c + 3 * n); Vector.Store(c31, c + 3 * n + w);
    }

    private static void Panel1x2(float* a, float* b, float* c, int k, int n, bool accumulate)
    {
        int w = Vector<float>.Count;
        var c0 = accumulate ? Vector.Load(c) : Vector<float>.Zero;
        var c1 = accumulate ? Vector.Load(c + w) : Vector<float>.Zero;
        for (int p = 0; p < k; p++)
        {
            float* bRow = b + p * 2 * w;
            var x = new Vector<float>(a[p]);
            c0 = Vector.FusedMultiplyAdd(x, Vector.Load(bRow), c0);
            c1 = Vector.FusedMultiplyAdd(x, Vector.Load(bRow + w), c1);
        }
        Vector.Store(c0, c);
        Vector.Store(c1, c + w);
    }

    private static void CheckLength(ReadOnlySpan<float> span, long needed, string name)
    {
        if (span.Length < needed)
            throw new ArgumentException($"matrix {name} holds {span.Length} values, the shape needs {needed}");
    }
}
