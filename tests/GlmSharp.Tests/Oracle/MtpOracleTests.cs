using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm4_moe's NextN (multi-token-prediction) layer. llama.cpp loads it but runs no graph for it, so it runs the layer as a
/// one-layer model instead (<see cref="RandomMoeCheckpoint.NextNAsModel"/>): when each row's hidden input is a fixed
/// vector of its token, the layer's input projection is a per-token table, which becomes that model's embedding. The
/// decoder layer, its cache across calls, the shared head and the order of the concatenated halves are then checked
/// logit by logit.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class MtpOracleTests(ITestOutputHelper output)
{
    private static readonly TinyMoeSpec Spec = new(160, 64, 2, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1,
        FirstDense: 1, QkNorm: true, NextN: 1);

    [Fact]
    public void NextN_Layer_Logits_Match_LlamaCpp_Running_It_As_A_Model()
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMoeCheckpoint(Spec, seed: 21);
        var hiddenOf = Enumerable.Range(0, Spec.Vocab).Select(t => TestMatrix.RandomActivations(Spec.Hidden, seed: 1000 + t)).ToArray();
        string standalone = checkpoint.NextNAsModel(t => hiddenOf[t]).WriteGguf(dir.File("nextn.gguf"), GgmlType.F32);
        var tokens = Spec.RandomPrompt(30, seed: 5);
        var expected = LlamaCpp.Logits(standalone, tokens, Spec.Vocab, Spec.Context);

        foreach (string path in new[] { checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32), checkpoint.WriteHuggingFace(dir.File("hf")) })
        {
            using var loaded = ModelLoader.Load(path, CpuBackend.Instance);
            var hidden = tokens.SelectMany(t => hiddenOf[t]).ToArray();
            var (actual, _) = NextNRun.Logits(loaded.Model.NextN!, tokens, hidden, split: 18, Spec.Vocab, Spec.Context);
            double error = LogitComparison.WorstRelativeError(actual, expected, Spec.Vocab);
            output.WriteLine($"{Path.GetFileName(path)}: worst relative logit error {error:E2}");
            Assert.True(error <= 1e-3, $"{path}: worst relative logit error {error:E2} > 1e-3");
        }
    }
}
