using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;

namespace GlmSharp.Vision;

/// <summary>
/// The vision side of a loaded glm4v text model: its tower, read from a llama.cpp mmproj GGUF or from the
/// <c>model.visual.*</c> tensors of the same Hugging Face folder, and the pre-processing of the program that reads that
/// file (mtmd's for an mmproj, the checkpoint's preprocessor_config.json with transformers' processor for a folder),
/// so an image becomes the rows either reference would feed.
/// </summary>
public sealed class ImageEncoder : IDisposable
{
    private const string PreprocessorFile = "preprocessor_config.json";
    private const string VideoPreprocessorFile = "video_preprocessor_config.json";

    private ImageEncoder(Glm4vVisionTower tower, ImagePreprocessor preprocessor, ImagePreprocessor videoPreprocessor, int imageTokenId)
    {
        (Tower, Preprocessor, VideoPreprocessor, ImageTokenId) = (tower, preprocessor, videoPreprocessor, imageTokenId);
    }

    public Glm4vVisionTower Tower { get; }
    public ImagePreprocessor Preprocessor { get; }

    /// <summary>
    /// Video frames' pre-processing: for a folder, transformers' video processor (video_preprocessor_config.json, else its
    /// class defaults); for an mmproj, each frame as mtmd pre-processes an image.
    /// </summary>
    public ImagePreprocessor VideoPreprocessor { get; }

    /// <summary>The token id image rows carry (the config's image_token_id, or the vocabulary's <c>&lt;|image|&gt;</c>).</summary>
    public int ImageTokenId { get; }

    /// <summary>
    /// The tower for <paramref name="text"/>: from <paramref name="mmprojPath"/> when given, else from the text model's own
    /// glm4v folder. Refuses a text model without M-RoPE and a tower whose tokens are not the text model's width.
    /// </summary>
    public static ImageEncoder Open(LoadedModel text, string? mmprojPath, IComputeBackend? backend = null)
    {
        if (text.Model.Rope.PositionComponents != RopeTable.MultiSectionComponents)
            throw new ImageInputException($"{text.Path}: the text model takes 1-D positions; images need GLM-4.1V's or GLM-4.5V's text model (glm4v / glm4v_moe, or a glm4 / glm4moe GGUF with rope.dimension_sections)");
        Glm4vVisionTower tower;
        ImagePreprocessing mode;
        int? configImageToken = null;
        Glm4vPreprocessorConfig? videoConfig = null;
        if (mmprojPath is not null)
        {
            tower = Glm4vVisionTower.FromMmproj(mmprojPath, backend);
            mode = ImagePreprocessing.LlamaCpp;
        }
        else if (Directory.Exists(text.Path) && HasTowerInFolder(text.Architecture))
        {
            var config = Glm4vConfig.Load(Path.Combine(text.Path, "config.json"));
            var tensors = TowerTensors(text.Path);
            try
            {
                tower = Glm4vVisionTower.FromHuggingFace(tensors, config.Vision, Preprocessing(text.Path), backend);
            }
            catch
            {
                tensors.Dispose();
                throw;
            }
            mode = ImagePreprocessing.HuggingFace;
            configImageToken = config.ImageTokenId;
            string videoFile = Path.Combine(text.Path, VideoPreprocessorFile);
            videoConfig = File.Exists(videoFile) ? Glm4vPreprocessorConfig.Load(videoFile) : tower.Preprocessor.WithVideoBudget();
        }
        else throw new ImageInputException($"{text.Path}: the model has no vision tower; give a glm4v mmproj GGUF (--mmproj) or use a glm4v / glm4v_moe Hugging Face folder");

        try
        {
            if (tower.OutputWidth != text.Config.HiddenSize)
                throw new ModelFormatException($"{tower.Origin}: the vision tower's tokens are {tower.OutputWidth} wide, the text model {text.Path} takes {text.Config.HiddenSize}");
            int imageToken = configImageToken
                ?? (text.Tokenizer is { } tokenizer && tokenizer.TryGetAddedToken(ImagePrompt.ImageToken, out int id) ? id : 0);
            return new ImageEncoder(tower, new ImagePreprocessor(tower.Preprocessor, mode), new ImagePreprocessor(videoConfig ?? tower.Preprocessor, mode), imageToken);
        }
        catch
        {
            tower.Dispose();
            throw;
        }
    }

    /// <summary>Whether a Hugging Face folder of <paramref name="architecture"/> holds its vision tower beside the decoder.</summary>
    public static bool HasTowerInFolder(IArchitecture architecture) => architecture is Glm4v or Glm4vMoe;

    /// <summary>Pre-processes and encodes one decoded image; <paramref name="origin"/> names it in errors.</summary>
    public EncodedImage Encode(RgbaImage image, string origin)
    {
        var input = Preprocessor.Preprocess(image, origin);
        return new EncodedImage(input.GridH / input.MergeSize, input.GridW / input.MergeSize, Tower.Encode(input));
    }

    /// <summary>
    /// Encodes decoded images in order, after checking that their tokens together leave room in a context of
    /// <paramref name="contextLength"/> (before the tower runs); <paramref name="what"/> names the input in that error.
    /// </summary>
    public IReadOnlyList<EncodedImage> EncodeAll(IReadOnlyList<(RgbaImage Image, string Origin)> images, int contextLength, string what)
    {
        int tokens = images.Sum(i => TokenCount(i.Image, i.Origin));
        if (tokens >= contextLength)
            throw new ContextLimitException($"{what}: the images take {tokens} tokens, the context holds {contextLength}; use smaller images or a longer context");
        return [.. images.Select(i => Encode(i.Image, i.Origin))];
    }

    /// <summary>
    /// Encodes a video's sampled frames temporal patch by temporal patch, after checking that its tokens leave room in a
    /// context of <paramref name="contextLength"/>. The tower attends within each patch only (transformers' cu_seqlens
    /// per frame of the grid), so each patch is encoded as an image whose two temporal frames differ.
    /// </summary>
    public EncodedVideo EncodeVideo(VideoFrames video, int contextLength)
    {
        int temporal = VideoPreprocessor.TemporalPatchSize;
        if (video.Frames.Count % temporal != 0)
            throw new ImageInputException($"{video.Origin}: {video.Frames.Count} sampled frames do not fill temporal patches of {temporal}");
        var first = video.Frames[0];
        var size = VideoPreprocessor.TargetSize(first.Height, first.Width, video.Origin, video.Frames.Count);
        int factor = Tower.Preprocessor.Factor, patches = video.Frames.Count / temporal;
        int tokens = patches * (size.Height / factor) * (size.Width / factor);
        if (tokens >= contextLength)
            throw new ContextLimitException($"{video.Origin}: the video takes {tokens} tokens ({patches} temporal patches), the context holds {contextLength}; use a shorter video or a longer context");
        var encoded = new EncodedImage[patches];
        for (int p = 0; p < patches; p++)
        {
            var input = VideoPreprocessor.PreprocessFrames([.. video.Frames.Skip(p * temporal).Take(temporal)], size);
            encoded[p] = new EncodedImage(input.GridH / input.MergeSize, input.GridW / input.MergeSize, Tower.Encode(input));
        }
        return new EncodedVideo(encoded, video.TemporalPatchTimestamps(temporal));
    }

    /// <summary>Merged tokens <paramref name="image"/> will take, without running the tower.</summary>
    public int TokenCount(RgbaImage image, string origin)
    {
        var size = Preprocessor.TargetSize(image.Height, image.Width, origin);
        int factor = Tower.Preprocessor.Factor;
        return size.Height / factor * (size.Width / factor);
    }

    /// <summary>The folder's vision tensors under <c>model.visual.</c>, also when stored under an older layout's <c>visual.</c>.</summary>
    private static ITensorSource TowerTensors(string folder)
    {
        var all = SafetensorsTensorSource.Open(folder);
        try
        {
            return new RenamedTensorSource(all, name =>
                name.StartsWith(Glm4vVisionTensors.HfPrefix, StringComparison.Ordinal) ? name
                : name.StartsWith("visual.", StringComparison.Ordinal) ? "model." + name
                : null);
        }
        catch
        {
            all.Dispose();
            throw;
        }
    }

    private static Glm4vPreprocessorConfig Preprocessing(string folder)
    {
        string path = Path.Combine(folder, PreprocessorFile);
        return File.Exists(path) ? Glm4vPreprocessorConfig.Load(path) : Glm4vPreprocessorConfig.Default;
    }

    public void Dispose() => Tower.Dispose();
}
