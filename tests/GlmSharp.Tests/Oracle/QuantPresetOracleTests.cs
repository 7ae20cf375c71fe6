using GlmSharp.Configs;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// Every K-quant preset's choice of tensor types, held against the file llama.cpp's quantizer writes for the same
/// F32 GGUF: dense and mixture-of-experts models whose layer counts, GQA ratios and row widths make its rules matter.
/// Only the types are compared here, so the presets whose types GlmSharp cannot write yet are covered too; the bytes
/// of the others are compared in <see cref="QuantizeOracleTests"/>.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class QuantPresetOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models() => ["dense", "tied", "moe"];

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_Preset_Assigns_LlamaCpp_Tensor_Types(string model)
    {
        using var dir = new TempDirectory();
        var (f32, config) = WriteF32(model, dir.File("f32.gguf"));
        var mismatches = new List<string>();
        foreach (var preset in Enum.GetValues<QuantPreset>())
        {
            string expectedPath = dir.File($"{preset}.gguf");
            QuantPresetModels.Quantize(f32, expectedPath, preset);
            using var expected = GgufFile.Open(expectedPath);
            using var source = GgufFile.Open(f32);
            var actual = QuantizationScheme.ForPreset(preset).Assign(source.Tensors.Select(t => (t.Name, t.Shape)), QuantizationTarget.Of(config));
            Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), actual.Keys.Order());
            var wrong = expected.Tensors.Where(e => e.Type != actual[e.Name]).Select(e => $"{preset} {e.Name}: llama.cpp {e.Type}, GlmSharp {actual[e.Name]}").ToList();
            output.WriteLine($"{model} {preset}: {string.Join(", ", expected.Tensors.GroupBy(t => t.Type).Select(g => $"{g.Count()} {g.Key}"))}; {wrong.Count} differ");
            mismatches.AddRange(wrong);
            Assert.Equal(expected.Metadata.GetUInt("general.file_type"), QuantizationScheme.ForPreset(preset).FileType);
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    private static (string Path, ModelConfig Config) WriteF32(string model, string path)
    {
        if (model == "moe")
        {
            var moe = new RandomMoeCheckpoint(QuantPresetModels.EightExperts, seed: 4);
            return (moe.WriteGguf(path, GgmlType.F32), HfConfigLoader.Parse(ConfigJson.Parse(moe.ConfigJsonText(), "config.json")));
        }
        var dense = new RandomGlmCheckpoint(model == "dense" ? QuantPresetModels.DenseLayers : QuantPresetModels.TiedOddRows, seed: 4);
        return (dense.WriteGguf(path, GgmlType.F32), dense.HfConfig());
    }
}
