using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Tokenizers;
using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

/// <summary>A glm4 Hugging Face folder read back into training weights (`glm train --init-from FOLDER`).</summary>
public sealed class ImportTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TokenizerVocabulary Vocabulary = BpeTrainer.Train([TinyCorpus.Text], 300);

    public void Dispose() => _dir.Dispose();

    private static Glm4TrainingWeights RandomWeights(bool tied)
    {
        var weights = new Glm4TrainingWeights(TinyCorpus.Shape(tied) with { VocabSize = 300 });
        ModelGradientTests.RandomizeAll(weights.Parameters);
        return weights;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void F32_Export_Reads_Back_Bit_For_Bit(bool tied)
    {
        var weights = RandomWeights(tied);
        HfCheckpointExporter.Export(weights, Vocabulary, _dir.Path);

        var imported = HfCheckpointImporter.LoadGlm4(_dir.Path);

        Assert.Equal(weights.Shape, imported.Shape);
        Assert.Equal(weights.Parameters.Values, imported.Parameters.Values);
    }

    [Fact]
    public void Bf16_Export_Reads_Back_As_The_Bf16_Values()
    {
        var weights = RandomWeights(tied: true);
        HfCheckpointExporter.Export(weights, Vocabulary, _dir.Path, SafetensorsDtype.BF16);

        var imported = HfCheckpointImporter.LoadGlm4(_dir.Path);

        var rounded = weights.Parameters.Values.Select(v => Bf16.ToFloat(Bf16.FromFloat(v))).ToArray();
        Assert.Equal(rounded, imported.Parameters.Values);
    }

    [Fact]
    public void A_Tensor_Of_Another_Shape_Is_Named_With_Both_Shapes()
    {
        HfCheckpointExporter.Export(RandomWeights(tied: true), Vocabulary, _dir.Path);
        string config = Path.Combine(_dir.Path, "config.json");
        var shape = TinyCorpus.Shape(true);
        File.WriteAllText(config, File.ReadAllText(config).Replace($"\"intermediate_size\": {shape.IntermediateSize}", $"\"intermediate_size\": {shape.IntermediateSize + 2}"));

        var e = Assert.Throws<ModelFormatException>(() => HfCheckpointImporter.LoadGlm4(_dir.Path));

        Assert.Contains($"tensor 'model.layers.0.mlp.gate_up_proj.weight' has shape [{2 * shape.IntermediateSize},{shape.HiddenSize}], " +
            $"expected [{2 * (shape.IntermediateSize + 2)},{shape.HiddenSize}]", e.Message);
    }

    [Fact]
    public void Untied_Weights_Under_A_Tied_Config_Leave_The_Output_Layer_Over()
    {
        HfCheckpointExporter.Export(RandomWeights(tied: false), Vocabulary, _dir.Path);
        string config = Path.Combine(_dir.Path, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"));

        var e = Assert.Throws<ModelFormatException>(() => HfCheckpointImporter.LoadGlm4(_dir.Path));

        Assert.Contains("tensor 'lm_head.weight' is not part of the glm4 model config.json describes", e.Message);
    }

    [Fact]
    public void A_Moe_Folder_Or_A_Folder_Without_Config_Is_Refused()
    {
        Assert.Equal($"{_dir.Path}: no config.json, so not a Hugging Face model folder",
            Assert.Throws<ModelFormatException>(() => HfCheckpointImporter.LoadGlm4(_dir.Path)).Message);

        var tiny = MoeModelGradientTests.Tiny(shared: true, normalize: true, nextN: false);
        var moe = new Glm4MoeTrainingWeights(tiny with { Attention = tiny.Attention with { VocabSize = 300 } });
        HfCheckpointExporter.Export(moe, Vocabulary, _dir.Path);
        var e = Assert.Throws<UnsupportedModelException>(() => HfCheckpointImporter.LoadGlm4(_dir.Path));
        Assert.Contains("only glm4 weights can start a pass from a Hugging Face folder", e.Message);
    }
}
