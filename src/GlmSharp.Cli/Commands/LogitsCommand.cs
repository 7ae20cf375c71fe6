using System.CommandLine;
using System.Runtime.InteropServices;
using GlmSharp.Errors;
using GlmSharp.Imaging;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands;

internal static class LogitsCommand
{
    private static readonly string[] PreprocessingNames = ["hf", "llama.cpp"];

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var ids = TokenIdList.Option("Comma-separated token ids (or give --prompt)");
        var prompt = new Option<string?>("--prompt") { Description = $"Prompt text, used as given; with --image, {ImagePrompt.Marker} marks where the image goes" };
        var image = new Option<string?>("--image") { Description = "Image file (PNG, JPEG, WebP, GIF, BMP) to place at the prompt's marker" }.ExistingFile();
        var mmproj = new Option<string?>("--mmproj") { Description = "llama.cpp glm4v mmproj GGUF: the vision tower for --image" }.ExistingFile();
        var preprocess = new Option<string>("--preprocess")
        {
            Description = "Image pre-processing to reproduce: hf (transformers' Glm4vImageProcessor) or llama.cpp (mtmd's, exactly)",
            DefaultValueFactory = _ => "hf",
        }.OneOf(PreprocessingNames);
        var last = new Option<bool>("--last") { Description = "Write only the last position's logits, [vocab]" };
        var cacheType = CommonOptions.CacheType();
        var output = new Option<string>("--out") { Description = "File to write: float32 little-endian, row-major [n_tokens, vocab] (or [vocab] with --last)", Required = true }.WritableFile();
        var embeddingsOut = new Option<string?>("--embeddings-out") { Description = "With --image: file for the image embeddings, float32 [n_image_tokens, n_embd] row-major" }.WritableFile();
        var command = new Command("logits", "Write the logits of a token sequence or a prompt (with an image, for glm4v) to a file")
        {
            model, ids, prompt, image, mmproj, preprocess, last, output, embeddingsOut, cacheType,
        };
        command.SetAction(parse =>
        {
            // An absent --token-ids reads as no ids (its parser refuses an empty list given on the command line).
            int[]? tokens = parse.GetValue(ids) is { Length: > 0 } given ? given : null;
            string? text = parse.GetValue(prompt), imagePath = parse.GetValue(image), mmprojPath = parse.GetValue(mmproj);
            if ((tokens is null) == (text is null)) throw new GlmException("logits: give either --token-ids or --prompt");
            if (imagePath is not null && (mmprojPath is null || text is null)) throw new GlmException("--image: needs --mmproj (the vision tower) and --prompt");
            if (imagePath is null && (mmprojPath is not null || parse.GetValue(embeddingsOut) is not null))
                throw new GlmException("--mmproj and --embeddings-out: need --image");
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            var mode = parse.GetValue(last) ? LogitsFor.LastToken : LogitsFor.AllTokens;
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            float[] logits = imagePath is null
                ? TextLogits(loaded, tokens ?? Tokenize(loaded, text!), mode, cache)
                : ImageLogits(loaded, text!, imagePath, mmprojPath!, parse.GetValue(preprocess) == "llama.cpp", mode, cache, parse.GetValue(embeddingsOut));
            File.WriteAllBytes(parse.GetValue(output)!, MemoryMarshal.AsBytes(logits.AsSpan()).ToArray());
            Console.Error.WriteLine($"wrote {logits.Length / loaded.Config.VocabSize}×{loaded.Config.VocabSize} logits to {parse.GetValue(output)}");
            return 0;
        });
        return command;
    }

    private static int[] Tokenize(LoadedModel loaded, string text) =>
        (loaded.Tokenizer ?? throw new GlmException($"{loaded.Path}: the model has no vocabulary to tokenize --prompt with; give --token-ids")).Encode(text);

    private static float[] TextLogits(LoadedModel loaded, int[] tokens, LogitsFor mode, KvCacheType cache)
    {
        if (tokens.Length == 0) throw new GlmException("--prompt: it gives no tokens");
        int vocab = loaded.Config.VocabSize;
        using var session = loaded.Model.CreateSession(Math.Min(loaded.Config.MaxPositions, tokens.Length), cacheType: cache);
        var logits = new float[(mode == LogitsFor.LastToken ? 1 : tokens.Length) * vocab];
        loaded.Model.Forward(tokens, session, logits, mode);
        return logits;
    }

    private static float[] ImageLogits(LoadedModel loaded, string text, string imagePath, string mmprojPath, bool llamaCppPreprocessing,
        LogitsFor mode, KvCacheType cache, string? embeddingsPath)
    {
        var tokenizer = loaded.Tokenizer ?? throw new GlmException($"{loaded.Path}: the model has no vocabulary to tokenize --prompt with");
        using var tower = Glm4vVisionTower.FromMmproj(mmprojPath);
        if (tower.OutputWidth != loaded.Config.HiddenSize)
            throw new ModelFormatException($"{mmprojPath}: the vision tower's tokens are {tower.OutputWidth} wide, the text model {loaded.Path} takes {loaded.Config.HiddenSize}");
        var preprocessor = new ImagePreprocessor(tower.Preprocessor, llamaCppPreprocessing ? ImagePreprocessing.LlamaCpp : ImagePreprocessing.HuggingFace);
        var input = preprocessor.Preprocess(ImageDecoder.DecodeFile(imagePath), imagePath);
        var prompt = ImagePrompt.Create(text, tokenizer, input.GridH / input.MergeSize, input.GridW / input.MergeSize, loaded.Path);
        if (prompt.Length > loaded.Config.MaxPositions)
            throw new ContextLimitException($"--prompt: {prompt.Length} tokens with the image exceed the context of {loaded.Config.MaxPositions} tokens of {loaded.Path}");
        var embeddings = tower.Encode(input);
        if (embeddingsPath is not null) File.WriteAllBytes(embeddingsPath, MemoryMarshal.AsBytes(embeddings.AsSpan()).ToArray());
        return prompt.Logits(loaded.Model, embeddings, mode, cache);
    }
}
