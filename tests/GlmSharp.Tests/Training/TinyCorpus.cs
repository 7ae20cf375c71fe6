using System.Text;
using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

/// <summary>A fixed English text as byte tokens (vocabulary 256) and a tiny glm4 shape for fast training tests.</summary>
internal static class TinyCorpus
{
    public const string Text =
        "The quick brown fox jumps over the lazy dog. A small model learns to repeat what it reads. " +
        "Every morning the baker opens the shop, lights the oven and bakes bread for the village. " +
        "The children walk to school along the river and count the boats that pass under the bridge. ";

    public static TokenStream Stream(int repeats = 4) =>
        new(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Text, repeats))).Select(b => (int)b).ToArray());

    public static Glm4TrainingShape Shape(bool tied = true) => new()
    {
        VocabSize = 256, HiddenSize = 32, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 8,
        IntermediateSize = 64, TieWordEmbeddings = tied, MaxPositions = 64,
    };
}
