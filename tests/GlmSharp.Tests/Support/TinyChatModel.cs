using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Support;

/// <summary>
/// A complete tiny Hugging Face checkpoint on disk: random glm4 weights sized to a BPE vocabulary trained on a
/// short bilingual text, tokenizer.json, tokenizer_config.json with a GLM chat template, config.json.
/// </summary>
public static class TinyChatModel
{
    public const string Corpus =
        "The quick brown fox jumps over the lazy dog. A model of language reads text and writes more of it. " +
        "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。 Numbers like 12345 and 2026 appear; code too: x = f(y) + 1;";

    public static (string Folder, TokenizerVocabulary Vocabulary, TinyGlmSpec Spec) Write(string folder, int seed = 17)
    {
        var vocabulary = BpeTrainer.Train(Enumerable.Repeat(Corpus, 4), vocabSize: 400);
        var spec = new TinyGlmSpec("glm4", vocabulary.Tokens.Count, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false, Context: 128);
        new RandomGlmCheckpoint(spec, seed).WriteHuggingFace(folder);
        HfTokenizerWriter.WriteDirectory(vocabulary, folder);
        return (folder, vocabulary, spec);
    }
}
