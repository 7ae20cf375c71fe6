using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public class TrainingKernelsTests
{
    [Theory]
    [InlineData(3, 5, 7, false)]        // scalar tail only
    [InlineData(70, 300, 290, false)]   // several row and column tiles, two depth slices, a column tail
    [InlineData(9, 513, 48, true)]      // three depth slices, accumulating into C
    public void MatMul_Matches_A_Scalar_Triple_Loop(int m, int k, int n, bool accumulate)
    {
        var a = FiniteDifference.Random(m * k, 1);
        var b = FiniteDifference.Random(k * n, 2);
        var c = FiniteDifference.Random(m * n, 3);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * n + j] : 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * k + p] * b[p * n + j];
                expected[i * n + j] = sum;
            }
        TrainingKernels.MatMul(a, b, c, m, k, n, accumulate);
        // fp32 sums of k products of unit normals: error grows like sqrt(k)·6e-8·|terms|; 1e-4·sqrt(k) is generous yet
        // far below the O(1) error of any wrong index.
        double bound = 1e-4 * Math.Sqrt(k);
        for (int i = 0; i < m * n; i++) Assert.True(Math.Abs(c[i] - expected[i]) < bound, $"C[{i}] = {c[i]}, expected {expected[i]}");
    }

    [Fact]
    public void Transpose_Swaps_Rows_And_Columns_And_Can_Accumulate()
    {
        float[] src = [1, 2, 3, 4, 5, 6];
        var dst = new float[6];
        TrainingKernels.Transpose(src, dst, rows: 2, cols: 3);
        Assert.Equal([1, 4, 2, 5, 3, 6], dst);
        TrainingKernels.Transpose(src, dst, rows: 2, cols: 3, accumulate: true);
        Assert.Equal([2, 8, 4, 10, 6, 12], dst);
    }

    [Fact]
    public void MatMul_Rejects_Buffers_Smaller_Than_The_Shape()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingKernels.MatMul(new float[5], new float[6], new float[6], 2, 3, 2, false));
        Assert.Contains("matrix A", e.Message);
    }
}
