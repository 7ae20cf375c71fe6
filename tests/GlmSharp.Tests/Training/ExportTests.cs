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
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - expected[i]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
            }
            Assert.True(maxAbs > 1, "logits are too flat for the comparison to mean anything");
            Assert.True(maxDiff < 1e-3 * maxAbs, $"engine and trainer logits differ by {maxDiff:E2} (largest logit {maxAbs:F2})");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Exported_Moe_Checkpoint_Gives_The_Engine_The_Trainers_Logits(bool shared, bool normalize)
    {
        // The engine's glm4_moe (checked against llama.cpp's glm4moe) reads the Hugging Face per-expert layout.
        var vocabulary = TinyVocabulary(300);
        var tiny = MoeModelGradientTests.Tiny(shared, normalize);
        var shape = tiny with { Attention = tiny.Attention with { VocabSize = 300, MaxPositions = 64 } };
        var weights = new Glm4MoeTrainingWeights(shape);
        ModelGradientTests.RandomizeAll(weights.Parameters);
        // Selection biases small enough that the router scores, not the biases alone, decide the choice.
        foreach (var layer in weights.Layers)
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
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - expected[i]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
            }
            Assert.True(maxAbs > 1, "logits are too flat for the comparison to mean anything");
            Assert.True(maxDiff < 1e-3 * maxAbs, $"engine and trainer logits differ by {maxDiff:E2} (largest logit {maxAbs:F2})");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
