using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Tiny Hugging Face checkpoints with a NextN layer and the <see cref="TinyChatModel"/> tokenizer, whose NextN layer drafts
/// well enough to be accepted at times (<see cref="NextNTensors.MakeAgree"/>): glm4_moe, glm4_moe_lite (MLA) and
/// glm_moe_dsa (MLA over a DSA indexer that keeps fewer positions than a long prompt holds).
/// </summary>
public static class TinyMoeChatModel
{
    public static string Write(string folder, float blockScale = 0.15f)
    {
        var vocabulary = Vocabulary();
        var spec = new TinyMoeSpec(vocabulary.Tokens.Count, 64, 2, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1,
            FirstDense: 1, QkNorm: true, NextN: 1, Context: 128);
        new RandomMoeCheckpoint(spec, seed: 5).WithAgreeingNextN(blockScale).WriteHuggingFace(folder);
        HfTokenizerWriter.WriteDirectory(vocabulary, folder);
        return folder;
    }

    /// <summary>A glm4_moe_lite model, or with <paramref name="dsa"/> a glm_moe_dsa one, written as <see cref="Write"/> writes glm4_moe.</summary>
    public static string WriteMla(string folder, TinyDsaSpec? dsa = null)
    {
        var (checkpoint, vocabulary) = Mla(dsa);
        checkpoint.WriteHuggingFace(folder);
        HfTokenizerWriter.WriteDirectory(vocabulary, folder);
        return folder;
    }

    /// <summary>The same model as a GGUF with its tokenizer and its NextN layer (for deepseek2, as llama.cpp's newer converter writes it).</summary>
    public static string WriteMlaGguf(string path, TinyDsaSpec? dsa = null)
    {
        var (checkpoint, vocabulary) = Mla(dsa);
        return checkpoint.WriteGguf(path, GlmSharp.Tensors.GgmlType.F32, nextNBlocks: true, vocabulary: vocabulary);
    }

    private static (RandomMlaCheckpoint Checkpoint, TokenizerVocabulary Vocabulary) Mla(TinyDsaSpec? dsa)
    {
        var vocabulary = Vocabulary();
        return (new RandomMlaCheckpoint(MlaSpec(vocabulary.Tokens.Count, dsa), seed: 7).WithAgreeingNextN(0.15f), vocabulary);
    }

    /// <summary>The MLA shape <see cref="WriteMla"/> writes: two layers (one dense), four heads over a query bottleneck.</summary>
    public static TinyMlaSpec MlaSpec(int vocab, TinyDsaSpec? dsa = null) =>
        new(vocab, 64, 2, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 1.8, NextN: 1, Context: 128, Dsa: dsa);

    private static TokenizerVocabulary Vocabulary() => BpeTrainer.Train(Enumerable.Repeat(TinyChatModel.Corpus, 4), vocabSize: 400);
}
