namespace GlmSharp.Vision;

/// <summary>The metadata keys of a llama.cpp mmproj GGUF (clip-impl.h's KEY_* names) that a glm4v projector uses.</summary>
public static class MmprojKeys
{
    public const string Architecture = "general.architecture";
    public const string ProjectorType = "clip.projector_type";
    public const string VisionProjectorType = "clip.vision.projector_type";
    public const string HasVisionEncoder = "clip.has_vision_encoder";
    public const string UseSilu = "clip.use_silu";
    public const string UseGelu = "clip.use_gelu";
    public const string EmbeddingLength = "clip.vision.embedding_length";
    public const string FeedForwardLength = "clip.vision.feed_forward_length";
    public const string BlockCount = "clip.vision.block_count";
    public const string ProjectionDim = "clip.vision.projection_dim";
    public const string HeadCount = "clip.vision.attention.head_count";
    public const string LayerNormEpsilon = "clip.vision.attention.layer_norm_epsilon";
    public const string ImageSize = "clip.vision.image_size";
    public const string PatchSize = "clip.vision.patch_size";
    public const string ImageMean = "clip.vision.image_mean";
    public const string ImageStd = "clip.vision.image_std";
    public const string SpatialMergeSize = "clip.vision.spatial_merge_size";

    /// <summary>clip.projector_type's value for GLM-4.1V / GLM-4.5V.</summary>
    public const string Glm4vProjector = "glm4v";
}
