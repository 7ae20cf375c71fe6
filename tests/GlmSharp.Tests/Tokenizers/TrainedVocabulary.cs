using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Tests.Tokenizers;

/// <summary>One synthetic GLM-style vocabulary trained on <see cref="TokenizerCorpus.Training"/>, shared by the tests.</summary>
internal static class TrainedVocabulary
{
    public const int Size = 1200;

    private static readonly Lazy<TokenizerVocabulary> Lazy = new(() =>
        BpeTrainer.Train(TokenizerCorpus.Training, Size, chatTemplate: GlmJinjaTemplates.Glm45));

    public static TokenizerVocabulary Value => Lazy.Value;
}
