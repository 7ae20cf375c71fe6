using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public class ModelGradientTests
{
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Glm4_Backward_Matches_Finite_Differences_For_Every_Tensor(bool tied, bool bias)
    {
        var shape = new Glm4TrainingShape
        {
            VocabSize = 11, HiddenSize = 8, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 4,
            IntermediateSize = 6, PartialRotaryFactor = 0.5, AttentionBias = bias, TieWordEmbeddings = tied, MaxPositions = 8,
        };
        var weights = new Glm4TrainingWeights(shape);
        RandomizeAll(weights.Parameters);
        var model = new Glm4TrainingModel(weights, batchSize: 2, seqLen: 5);
        int[] inputs = [1, 4, 2, 9, 0, 3, 3, 7, 10, 5];
        int[] targets = [4, 2, 9, 0, -1, 3, 7, 10, 5, 6];

        model.Forward(inputs, targets);
        model.Backward();
        var values = weights.Parameters.Values;
        double Loss() => model.Forward(inputs, targets);
        foreach (var p in weights.Parameters.All)
        {
            var analytic = p.Of(weights.Parameters.Gradients).ToArray();
            double error = FiniteDifference.RelativeError(values, p.Offset, p.Length, analytic, Loss);
            Assert.True(error < FiniteDifference.Tolerance, $"{p.Name}: relative gradient error {error:E2}");
        }
    }

    [Fact]
    public void Tied_Model_Has_No_Lm_Head_Tensor_And_Counts_Parameters_Like_The_Layout()
    {
        var shape = new Glm4TrainingShape
        {
            VocabSize = 11, HiddenSize = 8, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 4, IntermediateSize = 6,
            TieWordEmbeddings = true,
        };
        var weights = new Glm4TrainingWeights(shape);
        Assert.False(weights.Parameters.Contains("lm_head.weight"));
        Assert.Same(weights.Embedding, weights.LmHead);
        Assert.Equal(shape.ParameterCount, weights.Parameters.Count);
        var untied = shape with { TieWordEmbeddings = false };
        Assert.Equal(untied.ParameterCount, new Glm4TrainingWeights(untied).Parameters.Count);
    }

    // Large weights make per-parameter gradients big enough to stand out of the fp32 rounding of the loss.
    internal static void RandomizeAll(TrainingParameters parameters)
    {
        ulong seed = 100;
        foreach (var p in parameters.All)
        {
            bool norm = p.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            var values = FiniteDifference.Random(p.Length, seed++, norm ? 0.2 : 0.5, norm ? 1.0 : 0.0);
            values.CopyTo(p.Of(parameters.Values));
        }
    }
}
