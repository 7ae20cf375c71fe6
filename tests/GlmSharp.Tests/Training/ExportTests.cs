using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;
using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public class ExportTests
{
    private static TokenizerVocabulary TinyVocabulary(int size) => BpeTrainer.Train([TinyCorpus.Text], size);

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Exported_Checkpoint_Gives_The_Engine_The_Trainers_Logits(bool tied, bool bias)
    {
        // The engine's glm4 forward is an independent implementation (checked against llama.cpp in its own tests), so
        // agreement here shows the trainer computes the glm4 the engine runs, and that names and layouts survive export.
        var vocabulary = TinyVocabulary(300);
        var shape = TinyCorpus.Shape(tied) with { VocabSize = 300, AttentionBias = bias };
        var weights = new Glm4TrainingWeights(shape);
        // Weights far from the initialisation (norm weights ≠ 1, large projections) so every path moves the logits.
        ModelGradientTests.RandomizeAll(weights.Parameters);
        var tokenizer = new BpeTokenizer(vocabulary);
        var stream = new TokenStream(tokenizer.Encode(TinyCorpus.Text));

        var model = new Glm4TrainingModel(weights, batchSize: 1, seqLen: 16);
        int[] tokens = stream.Ids[..16];
        model.Forward(tokens, new int[16]);
        var expected = model.Logits.ToArray();

        string folder = Directory.CreateTempSubdirectory("glm-export-").FullName;
        try
        {
            HfCheckpointExporter.Export(weights, vocabulary, folder);
            var config = (Glm4Config)HfConfigLoader.Load(Path.Combine(folder, "config.json"));
            Assert.Equal(shape.RotaryDims, config.RotaryDims);
            Assert.Equal(tied, config.TieWordEmbeddings);
            using var loaded = ModelLoader.Load(folder);
            using var session = loaded.Model.CreateSession(16, cacheType: KvCacheType.F32);
            var logits = new float[16 * shape.VocabSize];
            loaded.Model.Forward(tokens, session, logits, LogitsFor.AllTokens);
            AssertSameLogits(expected, logits);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(true, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, true)]
    public void Exported_Moe_Checkpoint_Gives_The_Engine_The_Trainers_Logits(bool shared, bool normalize, bool nextN)
    {
        // The engine's glm4_moe (checked against llama.cpp's glm4moe) reads the Hugging Face per-expert layout, and its
        // NextN layer (checked against llama.cpp running the layer as a model) the trained multi-token-prediction layer.
        var vocabulary = TinyVocabulary(300);
        var tiny = MoeModelGradientTests.Tiny(shared, normalize, nextN);
        var shape = tiny with { Attention = tiny.Attention with { VocabSize = 300, MaxPositions = 64 } };
        var weights = new Glm4MoeTrainingWeights(shape);
        ModelGradientTests.RandomizeAll(weights.Parameters);
        // Selection biases small enough that the router scores, not the biases alone, decide the choice.
        foreach (var layer in weights.Mtp is { } mtp ? [.. weights.Layers, mtp.Layer] : weights.Layers)
            if (layer.Moe is { } moe)
                System.Numerics.Tensors.TensorPrimitives.Multiply(moe.SelectionBias.Of(weights.Parameters.Values), 0.1f, moe.SelectionBias.Of(weights.Parameters.Values));
        var tokenizer = new BpeTokenizer(vocabulary);
        int[] tokens = tokenizer.Encode(TinyCorpus.Text)[..16];

        var model = new Glm4MoeTrainingModel(weights, batchSize: 1, seqLen: 16);
        model.Forward(tokens, new int[16]);
        var expected = model.Logits.ToArray();
        Assert.True(model.ExpertsOf(2)!.Chosen.ToArray().Distinct().Count() > 2, "the tokens should route to several experts");

        string folder = Directory.CreateTempSubdirectory("glm-export-moe-").FullName;
        try
        {
            HfCheckpointExporter.Export(weights, vocabulary, folder);
            var config = (Glm4MoeConfig)HfConfigLoader.Load(Path.Combine(folder, "config.json"));
            Assert.Equal(shape.Experts, config.Moe.RoutedExperts);
            Assert.Equal(shape.SharedExperts, config.Moe.SharedExperts);
            using var loaded = ModelLoader.Load(folder);
            using var session = loaded.Model.CreateSession(16, cacheType: KvCacheType.F32);
            var logits = new float[16 * shape.VocabSize];
            loaded.Model.Forward(tokens, session, logits, LogitsFor.AllTokens);
            AssertSameLogits(expected, logits);
            if (!nextN) return;

            // Row p of the NextN layer reads t_{p+1} and the main model's normed hidden state h_p; the last row has no t_{p+1}.
            using var mtp = loaded.Model.NextN!.CreateSession(16, KvCacheType.F32);
            var mtpLogits = new float[15 * shape.VocabSize];
            loaded.Model.NextN.Forward(tokens[1..], model.FinalHidden[..(15 * shape.HiddenSize)], mtp, mtpLogits, LogitsFor.AllTokens);
            AssertSameLogits(model.MtpLogits[..mtpLogits.Length].ToArray(), mtpLogits);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AssertSameLogits(float[] expected, float[] actual)
    {
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
        }
        Assert.True(maxAbs > 1, "logits are too flat for the comparison to mean anything");
        Assert.True(maxDiff < 1e-3 * maxAbs, $"engine and trainer logits differ by {maxDiff:E2} (largest logit {maxAbs:F2})");
    }

    [Fact]
    public void Export_Rejects_A_Tokenizer_Of_Another_Vocabulary_Size()
    {
        var weights = new Glm4TrainingWeights(TinyCorpus.Shape());
        var e = Assert.Throws<GlmSharp.Errors.GlmException>(() =>
            HfCheckpointExporter.Export(weights, TinyVocabulary(300), Path.GetTempPath()));
        Assert.Contains("vocab_size", e.Message);
    }
}
