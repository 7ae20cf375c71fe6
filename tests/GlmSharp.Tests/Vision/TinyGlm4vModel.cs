using GlmSharp.Configs;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// The shape of a tiny random GLM-4.1V pair: a glm4 text model with M-RoPE sections (as llama.cpp's converter writes
/// GLM-4.1V's text model) and a vision tower whose tokens are the text model's width.
/// </summary>
public sealed record TinyGlm4vShape(int Hidden, int Heads, int KvHeads, int HeadDim, int Intermediate, int[] Sections,
    int VisionHidden, int VisionHeads, int VisionDepth, int PatchSize, int PositionSide, int MergerIntermediate)
{
    public Glm4vVisionConfig Vision => new()
    {
        Depth = VisionDepth,
        HiddenSize = VisionHidden,
        NumHeads = VisionHeads,
        PatchSize = PatchSize,
        ImageSize = PositionSide * PatchSize,
        OutHiddenSize = Hidden,
        IntermediateSize = MergerIntermediate,
    };

    public override string ToString() =>
        $"text h{Hidden} heads{Heads}/{KvHeads} d{HeadDim} sections[{string.Join(",", Sections)}], vision h{VisionHidden} heads{VisionHeads} depth{VisionDepth} patch{PatchSize} table{PositionSide}²";
}

/// <summary>A <see cref="TinyGlm4vShape"/> written out: text GGUF with a byte-level BPE vocabulary that has the image markers, and an mmproj.</summary>
internal sealed record TinyGlm4vModel(string TextGguf, string Mmproj, TokenizerVocabulary Vocabulary, RandomGlm4vVision Vision)
{
    public const string Corpus = "Look at the picture and say what is in it. A cat sits on a red mat; two dogs run by the sea.";

    public static readonly string[] SpecialTokens = ["<|endoftext|>", ImagePrompt.BeginOfImage, ImagePrompt.EndOfImage, "<|image|>"];

    public int VocabSize => Vocabulary.Tokens.Count;

    public static TinyGlm4vModel Write(TempDirectory dir, TinyGlm4vShape shape, int seed)
    {
        var vocabulary = BpeTrainer.Train(Enumerable.Repeat(Corpus, 3), vocabSize: 320, SpecialTokens);
        var spec = new TinyGlmSpec("glm4", vocabulary.Tokens.Count, shape.Hidden, 2, shape.Heads, shape.KvHeads, shape.HeadDim,
            shape.Intermediate, 0.5, Bias: true, Tied: false, Context: 4096);
        var checkpoint = new RandomGlmCheckpoint(spec, seed);
        var config = checkpoint.HfConfig() with { MropeSections = shape.Sections };
        string text = dir.File("text.gguf");
        using (var source = new InMemoryTensorSource(checkpoint.Tensors))
            GgufExporter.Write(ModelRegistry.ByModelType("glm4", "test"), config, source, vocabulary, text, GgmlType.F32, "tiny glm4v text " + shape);
        var vision = new RandomGlm4vVision(shape.Vision, seed + 1);
        return new TinyGlm4vModel(text, vision.WriteMmproj(dir.File("mmproj.gguf")), vocabulary, vision);
    }
}
