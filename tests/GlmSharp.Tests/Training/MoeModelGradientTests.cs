using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

/// <summary>
/// The glm4_moe trainer's backward pass against finite differences for every tensor, the choice of experts held fixed
/// (it is discrete: the test checks that no perturbation changed it, so a passing check is a check of the gradients).
/// </summary>
public class MoeModelGradientTests
{
    internal static Glm4MoeTrainingShape Tiny(bool shared, bool normalize, bool nextN = false) => new()
    {
        Attention = new Glm4TrainingShape
        {
            VocabSize = 11, HiddenSize = 8, NumLayers = 3, NumHeads = 4, NumKvHeads = 2, HeadDim = 4,
            IntermediateSize = 10, PartialRotaryFactor = 0.5, AttentionBias = true, MaxPositions = 8,
        },
        Experts = 4, ExpertsPerToken = 2, ExpertIntermediateSize = 3, SharedExperts = shared ? 1 : 0, FirstDenseLayers = 1,
        RoutedScalingFactor = 1.5, NormTopkProb = normalize, NextNLayers = nextN ? 1 : 0,
    };

    [Theory]
    [InlineData(true, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, true)]
    public void Glm4Moe_Backward_Matches_Finite_Differences_For_Every_Tensor(bool shared, bool normalize, bool nextN)
    {
        var weights = new Glm4MoeTrainingWeights(Tiny(shared, normalize, nextN));
        ModelGradientTests.RandomizeAll(weights.Parameters);
        SeparateRouterScores(weights);
        var model = new Glm4MoeTrainingModel(weights, batchSize: 2, seqLen: 5);
        int[] inputs = [1, 4, 2, 9, 0, 3, 3, 7, 10, 5];
        int[] targets = [4, 2, 9, 0, -1, 3, 7, 10, 5, 6];

        model.Forward(inputs, targets);
        var choice = Choice(model);
        Assert.True(choice.Distinct().Count() > 2, "the rows should route to several experts");
        model.Backward();
        var values = weights.Parameters.Values;
        // The loss the gradients are of: the main loss plus λ times the NextN layer's.
        double Loss()
        {
            double loss = model.Forward(inputs, targets);
            Assert.Equal(choice, Choice(model));
            return nextN ? loss + model.MtpLossWeight * model.MtpLoss : loss;
        }
        foreach (var p in weights.Parameters.All)
        {
            var analytic = p.Of(weights.Parameters.Gradients).ToArray();
            if (p.Name.EndsWith("e_score_correction_bias", StringComparison.Ordinal))
            {
                Assert.All(analytic, g => Assert.Equal(0f, g));
                continue;
            }
            double step = p == weights.Embedding ? EmbeddingStep : FiniteDifference.Step;
            double error = FiniteDifference.RelativeError(values, p.Offset, p.Length, analytic, Loss, step);
            Assert.True(error < FiniteDifference.Tolerance, $"{p.Name}: relative gradient error {error:E2}");
        }
    }

    /// <summary>Wide router logits and no selection bias, so that no step of the finite differences changes a choice.</summary>
    private static void SeparateRouterScores(Glm4MoeTrainingWeights weights)
    {
        foreach (var layer in weights.Mtp is { } mtp ? [.. weights.Layers, mtp.Layer] : weights.Layers)
        {
            if (layer.Moe is not { } moe) continue;
            var router = moe.Router.Of(weights.Parameters.Values);
            for (int i = 0; i < router.Length; i++) router[i] *= RouterScale;
            moe.SelectionBias.Of(weights.Parameters.Values).Clear();
        }
    }

    private const float RouterScale = 2;

    /// <summary>
    /// A third of the usual step for the embedding: with the NextN layer it feeds the loss twice and the usual step's
    /// truncation error reaches 1.5 % (measured: 1.5e-3 at this step, falling as step² as it does when the gradient is
    /// right). The router's small gradients keep the usual step, where rounding matters less.
    /// </summary>
    private const double EmbeddingStep = 3e-3;

    /// <summary>Each row's set of experts in every MoE layer (their order within a row does not change the output).</summary>
    private static int[] Choice(Glm4MoeTrainingModel model) =>
        [.. Enumerable.Range(0, model.Weights.Shape.NumLayers + model.Weights.Shape.NextNLayers).SelectMany(l => model.ExpertsOf(l) is { } experts
            ? experts.Chosen.ToArray().Chunk(experts.PerRow).SelectMany(row => row.Order())
            : [])];
}
