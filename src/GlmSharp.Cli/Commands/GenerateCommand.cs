using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var context = CommonOptions.Context();
        var cacheType = CommonOptions.CacheType();
        var prompt = new Option<string?>("--prompt")
        {
            Description = $"Text to continue (no chat template; write special tokens as text if wanted); with --image, one {ImagePrompt.Marker} where each image goes; with --video, one {VideoPrompt.Marker} where each video goes",
        }.NotEmpty();
        var ids = TokenIdList.Option("Comma-separated prompt token ids instead of --prompt");
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate", DefaultValueFactory = _ => 128 }.Within(NumericRange.AtLeast(1));
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable); not printed", AllowMultipleArgumentsPerToken = false }.NotEmpty();
        var format = new Option<string>("--output") { Description = "text: stream the text; ids: print generated token ids on one line", DefaultValueFactory = _ => "text" }
            .OneOf(["text", "ids"]);
        var draft = new Option<string?>("--draft") { Description = "A smaller model with the same vocabulary that drafts tokens for speculative decoding" }.ExistingFileOrFolder();
        var mtp = new Option<bool>("--mtp") { Description = "Draft with the model's own multi-token-prediction (NextN) layer, as GLM-4.5 ships it" };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "Tokens drafted per step (default: 4 with --draft, 1 with --mtp, as GLM's config)", DefaultValueFactory = _ => 4 }
            .Within(NumericRange.Closed(1, SpeculativeGenerator.MaxDraftTokens));
        var images = new Option<string[]>("--image")
        {
            Description = $"Image file (PNG, JPEG, WebP, GIF, BMP) for the next {ImagePrompt.Marker} of --prompt; repeat for several, in order",
            AllowMultipleArgumentsPerToken = false,
        }.ExistingFile();
        var videos = new Option<string[]>("--video")
        {
            Description = $"Video file for the next {VideoPrompt.Marker} of --prompt, sampled at 2 frames per second as GLM's video processor does; " +
                "animated GIF and WebP are read directly, other containers (MP4, WebM, …) through the ffmpeg program; repeat for several, in order",
            AllowMultipleArgumentsPerToken = false,
        }.ExistingFile();
        var mmproj = ImageOptions.Mmproj();
        var sampling = new SamplingOptionSet();
        var command = new Command("generate", "Continue a prompt, streaming the text as it is generated")
            { model, context, cacheType, prompt, ids, images, videos, mmproj, maxTokens, stop, format, draft, mtp, draftTokens };
        sampling.AddTo(command);
        command.Validators.Add(result =>
        {
            if ((result.GetResult(prompt) is null) == (result.GetResult(ids) is null))
                result.AddError("give exactly one of --prompt or --token-ids");
            if (result.GetResult(draft) is not null && result.GetValue(mtp))
                result.AddError("give at most one of --draft or --mtp");
            bool withImages = result.GetResult(images) is not null, withVideos = result.GetResult(videos) is not null;
            if (withImages && (result.GetResult(prompt) is null || result.GetResult(draft) is not null || result.GetValue(mtp)))
                result.AddError("--image: needs --prompt, and runs without --draft or --mtp");
            if (withVideos && (result.GetResult(prompt) is null || result.GetResult(draft) is not null || result.GetValue(mtp)))
                result.AddError("--video: needs --prompt, and runs without --draft or --mtp");
            if (!withImages && !withVideos && result.GetResult(mmproj) is not null)
                result.AddError("--mmproj: needs --image or --video");
        });
        command.SetAction(async (parse, cancellation) =>
        {
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var tokenizer = loaded.Tokenizer ?? throw new UnsupportedModelException($"{loaded.Path}: the model has no tokenizer; use `glm logits` with token ids");
            string[] imagePaths = parse.GetValue(images) ?? [], videoPaths = parse.GetValue(videos) ?? [];
            int[] TextIds() => parse.GetResult(ids) is null ? tokenizer.Encode(parse.GetValue(prompt)!) : parse.GetValue(ids)!;
            var options = new GenerationOptions
            {
                MaxTokens = parse.GetValue(maxTokens),
                StopStrings = parse.GetValue(stop) ?? [],
                Sampling = sampling.Read(parse, loaded.Generation),
            };
            bool asIds = parse.GetValue(format) == "ids";
            var generated = new List<int>();
            async Task Stream(IAsyncEnumerable<GenerationChunk> chunks)
            {
                await foreach (var chunk in chunks)
                {
                    if (chunk.TokenId is int id) generated.Add(id);
                    if (!asIds) Console.Write(chunk.Text);
                }
                Console.WriteLine(asIds ? TokenIdList.Format(generated) : "");
            }
            string? draftPath = parse.GetValue(draft);
            bool nextN = parse.GetValue(mtp);
            if (draftPath is null && !nextN)
            {
                using var generator = new Generator(loaded, parse.GetValue(context), cache);
                var rows = imagePaths.Length + videoPaths.Length > 0
                    ? MediaPromptRows(loaded, parse.GetValue(mmproj), parse.GetValue(prompt)!, imagePaths, videoPaths, generator.Session.ContextLength)
                    : MultimodalPrompt.Text(TextIds());
                await Stream(generator.GenerateAsync(rows, options, cancellation));
                return 0;
            }
            int k = parse.GetResult(draftTokens) is { Implicit: false } ? parse.GetValue(draftTokens) : nextN ? 1 : 4;
            using var drafter = draftPath is null ? null : ModelLoader.Load(draftPath);
            using var speculative = drafter is null
                ? SpeculativeGenerator.WithNextN(loaded, k, parse.GetValue(context), cache)
                : new SpeculativeGenerator(loaded, drafter, k, parse.GetValue(context), cache);
            await Stream(speculative.GenerateAsync(TextIds(), options, cancellation));
            if (parse.GetValue(CommonOptions.Verbose))
            {
                var stats = speculative.Stats;
                Console.Error.WriteLine($"speculative decoding: {stats.Accepted} of {stats.Drafted} drafted tokens accepted ({stats.AcceptanceRate:P0}), {stats.TokensPerStep:F2} tokens per target step over {stats.Steps} steps");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The prompt with each <see cref="ImagePrompt.Marker"/> replaced by GLM's image placeholder and each
    /// <see cref="VideoPrompt.Marker"/> by its video placeholder, expanded into their rows; images and videos too large
    /// for the context are refused before the tower runs.
    /// </summary>
    private static MultimodalPrompt MediaPromptRows(LoadedModel loaded, string? mmprojPath, string prompt, string[] imagePaths, string[] videoPaths, int contextLength)
    {
        int markers = prompt.Split(ImagePrompt.Marker).Length - 1, videoMarkers = prompt.Split(VideoPrompt.Marker).Length - 1;
        if (markers != imagePaths.Length)
            throw new ImageInputException($"--prompt: it has {markers} {ImagePrompt.Marker} markers for {imagePaths.Length} images (--image); put one where each image goes");
        if (videoMarkers != videoPaths.Length)
            throw new ImageInputException($"--prompt: it has {videoMarkers} {VideoPrompt.Marker} markers for {videoPaths.Length} videos (--video); put one where each video goes");
        using var encoder = ImageEncoder.Open(loaded, mmprojPath);
        var encoded = encoder.EncodeAll([.. imagePaths.Select(path => (Imaging.ImageDecoder.DecodeFile(path), path))], contextLength, "--image");
        var videos = videoPaths.Select(path => encoder.EncodeVideo(Imaging.VideoDecoder.DecodeFile(path), contextLength)).ToArray();
        string text = prompt.Replace(ImagePrompt.Marker, ImagePrompt.Placeholder).Replace(VideoPrompt.Marker, VideoPrompt.Placeholder);
        var rows = MultimodalPrompt.FromText(text, loaded.Tokenizer!, encoded, encoder.ImageTokenId, loaded.Path, videos);
        if (rows.Length >= contextLength)
            throw new ContextLimitException($"--prompt: {rows.Length} tokens with its images and videos, the context holds {contextLength}; use smaller images, shorter videos or raise --context");
        return rows;
    }
}
