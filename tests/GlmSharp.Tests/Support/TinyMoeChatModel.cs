using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Support;

/// <summary>
/// A tiny glm4_moe Hugging Face checkpoint with a NextN layer and the <see cref="TinyChatModel"/> tokenizer, whose NextN
/// layer drafts well enough to be accepted at times (<see cref="RandomMoeCheckpoint.WithAgreeingNextN"/>).
/// </summary>
public static class TinyMoeChatModel
{
    public static string Write(string folder, float blockScale = 0.15f)
    {
        var vocabulary = BpeTrainer.Train(Enumerable.Repeat(TinyChatModel.Corpus, 4), vocabSize: 400);
        var spec = new TinyMoeSpec(vocabulary.Tokens.Count, 64, 2, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1,
            FirstDense: 1, QkNorm: true, NextN: 1, Context: 128);
        new RandomMoeCheckpoint(spec, seed: 5).WithAgreeingNextN(blockScale).WriteHuggingFace(folder);
        HfTokenizerWriter.WriteDirectory(vocabulary, folder);
        return folder;
    }
}
