using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;

namespace GlmSharp.Vision;

/// <summary>
/// A prompt whose rows are text tokens and the embedding rows of images, each row with its M-RoPE position
/// (<see cref="MropeLayout"/>: text counts up, image token (r, c) sits at (p, p + r, p + c), the text after an image
/// continues from p + max(rows, cols)), as transformers' processor and get_rope_index lay out GLM-4.1V's input. Image
/// rows carry the image token id, as the <c>&lt;|image|&gt;</c> copies the processor expands do before their
/// embeddings replace them.
/// </summary>
public sealed class MultimodalPrompt
{
    private readonly int[] _tokens;
    private readonly long[] _keys;
    private readonly (EncodedImage? Image, int Row)[] _imageRows;

    private MultimodalPrompt(int[] tokens, long[] keys, (EncodedImage?, int)[] imageRows, MropePositionIds positions, int nextPosition, int images)
    {
        (_tokens, _keys, _imageRows, Positions, NextPosition, ImageCount) = (tokens, keys, imageRows, positions, nextPosition, images);
    }

    public int Length => _tokens.Length;

    /// <summary>Each row's token: the text token, or the image token id for an image row.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    public MropePositionIds Positions { get; }

    /// <summary>The position a token generated right after the prompt takes (on all three components).</summary>
    public int NextPosition { get; }

    public int ImageCount { get; }

    /// <summary>
    /// What identifies each row's input for cache reuse: a text row's token id (≥ 0), or a negative value made from the
    /// image's content key and the row's index within the image. Equal keys up to a row mean equal positions too.
    /// </summary>
    public IReadOnlyList<long> RowKeys => _keys;

    /// <summary>A prompt of text tokens only.</summary>
    public static MultimodalPrompt Text(IReadOnlyList<int> tokens)
    {
        var builder = new Builder();
        builder.AddText([.. tokens]);
        return builder.Build();
    }

    /// <summary>
    /// Tokenizes <paramref name="text"/>, in which each <see cref="ImagePrompt.ImageToken"/> stands for the next of
    /// <paramref name="images"/> (as GLM's chat template writes <see cref="ImagePrompt.Placeholder"/> per image) and each
    /// <see cref="VideoPrompt.VideoToken"/> for the next of <paramref name="videos"/> (<see cref="VideoPrompt.Placeholder"/>),
    /// and expands every placeholder into its rows.
    /// </summary>
    public static MultimodalPrompt FromText(string text, BpeTokenizer tokenizer, IReadOnlyList<EncodedImage> images, int imageTokenId, string modelOrigin,
        IReadOnlyList<EncodedVideo>? videos = null)
    {
        videos ??= [];
        int imageMarks = Count(text, ImagePrompt.ImageToken), videoMarks = Count(text, VideoPrompt.VideoToken);
        if (imageMarks != images.Count)
            throw new ImageInputException($"prompt: it has {imageMarks} {ImagePrompt.ImageToken} placeholders for {images.Count} images");
        if (videoMarks != videos.Count)
            throw new ImageInputException($"prompt: it has {videoMarks} {VideoPrompt.VideoToken} placeholders for {videos.Count} videos");
        if (images.Count > 0) ImagePrompt.RequireImageMarkers(tokenizer, modelOrigin);
        if (videos.Count > 0) VideoPrompt.RequireVideoMarkers(tokenizer, modelOrigin);
        var builder = new Builder();
        int at = 0, image = 0, video = 0;
        while (true)
        {
            int nextImage = text.IndexOf(ImagePrompt.ImageToken, at, StringComparison.Ordinal);
            int nextVideo = text.IndexOf(VideoPrompt.VideoToken, at, StringComparison.Ordinal);
            bool isVideo = nextVideo >= 0 && (nextImage < 0 || nextVideo < nextImage);
            int next = isVideo ? nextVideo : nextImage;
            builder.AddText(tokenizer.Encode(next < 0 ? text[at..] : text[at..next]));
            if (next < 0) return builder.Build();
            if (isVideo) builder.AddVideo(videos[video++], imageTokenId, tokenizer);
            else builder.AddImage(images[image++], imageTokenId);
            at = next + (isVideo ? VideoPrompt.VideoToken : ImagePrompt.ImageToken).Length;
        }
    }

    private static int Count(string text, string token) => text.Split(token).Length - 1;

    /// <summary>
    /// Adds rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of the prompt to
    /// <paramref name="batch"/> for <paramref name="sequence"/>; the last row added asks for logits when
    /// <paramref name="logitsForLast"/>, or every row when <paramref name="logitsForAll"/>.
    /// </summary>
    public void AddRows(Batch batch, int sequence, int start, int count, RopeTable rope, string modelOrigin, bool logitsForLast = true, bool logitsForAll = false)
    {
        bool multiSection = rope.PositionComponents == RopeTable.MultiSectionComponents;
        if (!multiSection && ImageCount > 0)
            throw new ImageInputException($"{modelOrigin}: the text model takes 1-D positions; an image prompt needs a glm4 model with rope.dimension_sections (M-RoPE)");
        Span<int> position = stackalloc int[rope.PositionComponents];
        position.Clear(); // the spare fourth component stays 0, as mtmd fills it
        for (int i = start; i < start + count; i++)
        {
            if (multiSection) (position[0], position[1], position[2]) = Positions[i];
            else position[0] = Positions.T[i];
            bool wantsLogits = logitsForAll || (logitsForLast && i == start + count - 1);
            var (image, row) = _imageRows[i];
            if (image is null) batch.Add(_tokens[i], sequence, position, wantsLogits);
            else
            {
                int width = image.Embeddings.Length / image.Tokens;
                batch.AddEmbedding(image.Embeddings.AsSpan(row * width, width), sequence, position, wantsLogits);
            }
        }
    }

    /// <summary>Runs the whole prompt through <paramref name="model"/> in a fresh context; logits of the last row ([vocab]) or of every row ([Length, vocab]).</summary>
    public float[] Logits(CausalLm model, LogitsFor mode = LogitsFor.LastToken, KvCacheType cache = KvCacheType.F16)
    {
        foreach (var (image, _) in _imageRows)
            if (image is not null && image.Embeddings.Length != image.Tokens * model.Config.HiddenSize)
                throw new ArgumentException($"{image.Tokens} image tokens of width {model.Config.HiddenSize} need {image.Tokens * model.Config.HiddenSize} values, got {image.Embeddings.Length}");
        using var context = model.CreateContext(Length, cacheType: cache);
        int sequence = context.Cache.CreateSequence();
        var batch = new Batch(Length, model.Rope.PositionComponents);
        AddRows(batch, sequence, 0, Length, model.Rope, model.Origin, logitsForAll: mode == LogitsFor.AllTokens);
        var logits = new float[batch.LogitRows * model.Config.VocabSize];
        model.Decode(batch, context, logits);
        return logits;
    }

    /// <summary>Lays a prompt out run by run.</summary>
    public sealed class Builder
    {
        private readonly List<int> _tokens = [];
        private readonly List<long> _keys = [];
        private readonly List<(EncodedImage?, int)> _imageRows = [];
        private readonly MropeLayout _layout = new();
        private int _images;

        public Builder AddText(ReadOnlySpan<int> tokens)
        {
            foreach (int token in tokens)
            {
                _tokens.Add(token);
                _keys.Add(token);
                _imageRows.Add((null, 0));
            }
            _layout.AddText(tokens.Length);
            return this;
        }

        public Builder AddImage(EncodedImage image, int imageTokenId)
        {
            for (int row = 0; row < image.Tokens; row++)
            {
                _tokens.Add(imageTokenId);
                // Golden-ratio spreading keeps neighbouring rows of one image apart; the sign bit keeps them off token ids.
                _keys.Add(unchecked(image.ContentKey ^ (row + 1) * (long)0x9E3779B97F4A7C15) | long.MinValue);
                _imageRows.Add((image, row));
            }
            _layout.AddImage(image.Cols, image.Rows);
            _images++;
            return this;
        }

        /// <summary>A video's temporal patches, each as GLM's processor writes one: begin-of-image, its rows, end-of-image and its timestamp.</summary>
        public Builder AddVideo(EncodedVideo video, int imageTokenId, BpeTokenizer tokenizer)
        {
            for (int p = 0; p < video.TemporalPatches.Count; p++)
            {
                AddText(tokenizer.Encode(ImagePrompt.BeginOfImage));
                AddImage(video.TemporalPatches[p], imageTokenId);
                AddText(tokenizer.Encode(ImagePrompt.EndOfImage + video.Timestamps[p].ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            return this;
        }

        public MultimodalPrompt Build() => new([.. _tokens], [.. _keys], [.. _imageRows], _layout.Build(), _layout.NextPosition, _images);
    }
}
