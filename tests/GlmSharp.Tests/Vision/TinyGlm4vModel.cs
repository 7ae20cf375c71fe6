using System.Text.Json;
using GlmSharp.Configs;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// The shape of a tiny random GLM-4.1V pair: a glm4 text model with M-RoPE sections (as llama.cpp's converter writes
/// GLM-4.1V's text model) and a vision tower whose tokens are the text model's width. With <see cref="Experts"/> the text
/// model is GLM-4.5V's instead: glm4_moe layers (one dense lead layer of <see cref="Intermediate"/>, then routed experts
/// of <see cref="ExpertWidth"/> and a shared one) with the sections, a glm4moe GGUF.
/// </summary>
public sealed record TinyGlm4vShape(int Hidden, int Heads, int KvHeads, int HeadDim, int Intermediate, int[] Sections,
    int VisionHidden, int VisionHeads, int VisionDepth, int PatchSize, int PositionSide, int MergerIntermediate,
    int Experts = 0, int ExpertsPerToken = 0, int ExpertWidth = 0, bool Ocr = false)
{
    public bool Moe => Experts > 0;

    /// <summary>GLM-OCR: the glm4 text model without q/k/v bias, rotating every dim, and GLM-OCR's tower layout.</summary>
    public double PartialRotary => Ocr ? 1.0 : 0.5;

    public Glm4vVisionConfig Vision => new()
    {
        Depth = VisionDepth,
        HiddenSize = VisionHidden,
        NumHeads = VisionHeads,
        PatchSize = PatchSize,
        ImageSize = PositionSide * PatchSize,
        OutHiddenSize = Hidden,
        IntermediateSize = MergerIntermediate,
        AttentionBias = Ocr,
        GlmOcrLayout = Ocr,
    };

    public override string ToString() =>
        $"text h{Hidden} heads{Heads}/{KvHeads} d{HeadDim} sections[{string.Join(",", Sections)}]{(Moe ? $" experts {ExpertsPerToken} of {Experts} w{ExpertWidth}" : "")}, " +
        $"vision h{VisionHidden} heads{VisionHeads} depth{VisionDepth} patch{PatchSize} table{PositionSide}²";
}

/// <summary>
/// A <see cref="TinyGlm4vShape"/> written out: text GGUF with a byte-level BPE vocabulary that has the image markers, and
/// an mmproj; <see cref="WriteHuggingFace"/> writes the same weights as a Glm4vForConditionalGeneration (or, with
/// experts, Glm4vMoeForConditionalGeneration) folder.
/// </summary>
internal sealed record TinyGlm4vModel(string TextGguf, string Mmproj, TokenizerVocabulary Vocabulary, RandomGlm4vVision Vision,
    IRandomCheckpoint Text, TinyGlm4vShape Shape)
{
    public const string Corpus = "Look at the picture and say what is in it. A cat sits on a red mat; two dogs run by the sea.";

    public static readonly string[] SpecialTokens = ["<|endoftext|>", ImagePrompt.BeginOfImage, ImagePrompt.EndOfImage, ImagePrompt.ImageToken,
        VideoPrompt.BeginOfVideo, VideoPrompt.EndOfVideo, VideoPrompt.VideoToken];

    public int VocabSize => Vocabulary.Tokens.Count;

    public static TinyGlm4vModel Write(TempDirectory dir, TinyGlm4vShape shape, int seed)
    {
        var vocabulary = BpeTrainer.Train(Enumerable.Repeat(Corpus, 3), vocabSize: 320, SpecialTokens);
        int vocab = vocabulary.Tokens.Count;
        IRandomCheckpoint checkpoint = shape.Moe
            ? new RandomMoeCheckpoint(new TinyMoeSpec(vocab, shape.Hidden, 3, shape.Heads, shape.KvHeads, shape.HeadDim, shape.Intermediate,
                shape.Experts, shape.ExpertsPerToken, shape.ExpertWidth, SharedExperts: 1, FirstDense: 1, Context: 4096), seed)
            : new RandomGlmCheckpoint(new TinyGlmSpec("glm4", vocab, shape.Hidden, 2, shape.Heads, shape.KvHeads, shape.HeadDim,
                shape.Intermediate, shape.PartialRotary, Bias: !shape.Ocr, Tied: false, Context: 4096), seed);
        var config = HfConfigLoader.Parse(GlmSharp.Configs.ConfigJson.Parse(checkpoint.ConfigJsonText(), "config.json")) with { MropeSections = shape.Sections };
        string text = dir.File("text.gguf");
        using (var source = new InMemoryTensorSource(checkpoint.Tensors))
            GgufExporter.Write(ModelRegistry.ByModelType(config.ModelType, "test"), config, source, vocabulary, text, GgmlType.F32, "tiny glm4v text " + shape);
        var vision = new RandomGlm4vVision(shape.Vision, seed + 1);
        return new TinyGlm4vModel(text, vision.WriteMmproj(dir.File("mmproj.gguf")), vocabulary, vision, checkpoint, shape);
    }

    /// <summary>
    /// Writes the pair's weights as transformers saves GLM-4.1V: config.json (text_config, vision_config, marker ids),
    /// preprocessor_config.json (a pixel budget that leaves small images at their size), tokenizer.json and one
    /// model.safetensors with the decoder under model.language_model. and the tower under model.visual.. A glm4 text GGUF
    /// holds q/k rows as llama.cpp's converter reorders them for ggml's M-RoPE (within the rotated part of each head:
    /// even rows, then odd rows); the folder gets them back in Hugging Face's order. GLM-4.5V's rows are the same in both.
    /// </summary>
    public string WriteHuggingFace(string folder, bool withVision = true)
    {
        Directory.CreateDirectory(folder);
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in Text.Tensors)
            writer.AddFloats(Glm4v.StoredName(name), SafetensorsDtype.F32, shape, HuggingFaceRowOrder(name, shape, values));
        if (withVision)
            foreach (var (name, (shape, values)) in Vision.Tensors)
                writer.AddFloats(Glm4vVisionTensors.HfPrefix + name, SafetensorsDtype.F32, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        HfTokenizerWriter.WriteDirectory(Vocabulary, folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson());
        string preprocessor = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["patch_size"] = Shape.PatchSize,
            ["temporal_patch_size"] = 2,
            ["merge_size"] = 2,
            ["size"] = new Dictionary<string, long> { ["shortest_edge"] = 1, ["longest_edge"] = 1L << 30 },
            ["image_mean"] = RandomGlm4vVision.Mean,
            ["image_std"] = RandomGlm4vVision.Std,
        });
        // The video processor's file carries the same geometry and, here, the same budget, so frames stay at their size too.
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), preprocessor);
        File.WriteAllText(Path.Combine(folder, "video_preprocessor_config.json"), preprocessor);
        return folder;
    }

    private string ConfigJson()
    {
        var vision = Vision.Config;
        // The text decoder's fields are the glm4 checkpoint's own, with glm4v's M-RoPE sections added.
        var textConfig = JsonSerializer.Deserialize<Dictionary<string, object>>(Text.ConfigJsonText())!;
        textConfig.Remove("architectures");
        textConfig["model_type"] = Shape.Moe ? "glm4v_moe_text" : Shape.Ocr ? "glm_ocr_text" : "glm4v_text";
        if (Shape.Ocr)
        {
            // GLM-OCR's file keeps the rotary fraction and theta under rope_parameters only.
            textConfig.Remove("partial_rotary_factor");
            textConfig.Remove("rope_theta");
            textConfig["rope_parameters"] = new Dictionary<string, object>
                { ["rope_type"] = "default", ["mrope_section"] = Shape.Sections[..3], ["partial_rotary_factor"] = 1.0, ["rope_theta"] = 10000 };
        }
        else textConfig["rope_scaling"] = new Dictionary<string, object> { ["rope_type"] = "default", ["mrope_section"] = Shape.Sections[..3] };
        int Id(string token) => Vocabulary.Tokens.ToList().IndexOf(token);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = new[] { Shape.Moe ? "Glm4vMoeForConditionalGeneration" : Shape.Ocr ? "GlmOcrForConditionalGeneration" : "Glm4vForConditionalGeneration" },
            ["model_type"] = Shape.Moe ? "glm4v_moe" : Shape.Ocr ? "glm_ocr" : "glm4v",
            ["image_token_id"] = Id(ImagePrompt.ImageToken),
            ["image_start_token_id"] = Id(ImagePrompt.BeginOfImage),
            ["image_end_token_id"] = Id(ImagePrompt.EndOfImage),
            ["video_start_token_id"] = Id(VideoPrompt.BeginOfVideo),
            ["video_end_token_id"] = Id(VideoPrompt.EndOfVideo),
            ["text_config"] = textConfig,
            ["vision_config"] = new Dictionary<string, object>
            {
                ["model_type"] = Shape.Moe ? "glm4v_moe_vision" : Shape.Ocr ? "glm_ocr_vision" : "glm4v",
                ["depth"] = vision.Depth,
                ["hidden_size"] = vision.HiddenSize,
                ["num_heads"] = vision.NumHeads,
                ["patch_size"] = vision.PatchSize,
                ["temporal_patch_size"] = vision.TemporalPatchSize,
                ["spatial_merge_size"] = vision.SpatialMergeSize,
                ["image_size"] = vision.ImageSize,
                ["out_hidden_size"] = vision.OutHiddenSize,
                ["intermediate_size"] = vision.IntermediateSize,
                ["hidden_act"] = "silu",
                ["rms_norm_eps"] = vision.RmsNormEps,
                ["attention_bias"] = vision.AttentionBias,
            },
        });
    }

    /// <summary>Undoes llama.cpp's q/k reorder: GGUF row j of a head's rotated part is Hugging Face row 2j (first half) or 2(j − R/2) + 1.</summary>
    private float[] HuggingFaceRowOrder(string name, long[] shape, float[] values)
    {
        if (Shape.Moe || !name.Contains(".self_attn.q_proj.", StringComparison.Ordinal) && !name.Contains(".self_attn.k_proj.", StringComparison.Ordinal)) return values;
        int headDim = Shape.HeadDim, rotary = (int)(headDim * Shape.PartialRotary), columns = shape.Length == 2 ? (int)shape[1] : 1;
        var reordered = (float[])values.Clone();
        for (int head = 0; head < shape[0] / headDim; head++)
            for (int j = 0; j < rotary; j++)
            {
                int hfRow = j < rotary / 2 ? 2 * j : 2 * (j - rotary / 2) + 1;
                Array.Copy(values, (long)(head * headDim + j) * columns, reordered, (long)(head * headDim + hfRow) * columns, columns);
            }
        return reordered;
    }
}
