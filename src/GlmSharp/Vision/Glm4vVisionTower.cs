using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;
using GlmSharp.Vision.Blocks;

namespace GlmSharp.Vision;

/// <summary>
/// GLM-4.1V's vision tower (transformers' Glm4vVisionModel; llama.cpp's glm4v mmproj graph), image patches to the
/// text model's input embeddings:
///   patch embed (Conv3d as a linear map) → post-conv RMSNorm → + learned positions resampled to the grid (bicubic)
///   → blocks (<see cref="VisionBlock"/>) → post RMSNorm → 2×2 downsample + projector (<see cref="VisionPatchMerger"/>).
/// Patches stay in merge-block order throughout, so each run of merge² rows is one output token. Weights come from a
/// Glm4vForConditionalGeneration checkpoint (<c>model.visual.*</c>) or a llama.cpp mmproj GGUF, under the same names.
/// </summary>
public sealed class Glm4vVisionTower : IDisposable
{
    private readonly IComputeBackend _backend;
    private readonly ITensorSource _source;
    private readonly TensorView _patchKernel;
    private readonly DeviceSpan<float> _patchBias;
    private readonly RmsNorm _postNorm;
    private readonly RmsNorm? _postConvNorm;
    private readonly VisionPositionEmbedding? _positions;
    private readonly VisionRope2D _rope;
    private readonly VisionBlock[] _blocks;
    private readonly VisionPatchMerger _merger;

    public Glm4vVisionConfig Config { get; }
    public Glm4vPreprocessorConfig Preprocessor { get; }
    public string Origin => _source.Origin;

    /// <summary>Width of each image token: the text model's hidden size.</summary>
    public int OutputWidth => Config.OutHiddenSize;

    /// <param name="source">Tensors under transformers' names below <paramref name="prefix"/> (e.g. <c>model.visual.</c>).</param>
    /// <param name="conv3dKernel">The patch kernel [hidden, channels, temporal, patch, patch], row-major.</param>
    private Glm4vVisionTower(ITensorSource source, string prefix, float[] conv3dKernel, Glm4vVisionConfig config,
        Glm4vPreprocessorConfig preprocessor, IComputeBackend backend)
    {
        _source = source;
        _backend = backend;
        Config = config;
        Preprocessor = preprocessor;
        int hidden = config.HiddenSize, side = config.PositionGridSide;
        var w = new WeightBuilder(source, backend).At(prefix.TrimEnd('.'));
        var embedding = new VisionPatchEmbedding(conv3dKernel, w.Vector("patch_embed.proj.bias", hidden));
        _patchKernel = VisionWeights.Matrix(backend, prefix + Glm4vVisionTensors.HfPatchKernel, embedding.Weight, hidden, embedding.RowLength, source.Origin);
        _patchBias = backend.Upload<float>(embedding.Bias);
        if (!config.GlmOcrLayout)
        {
            _postConvNorm = RmsNorm.Load(w, backend, "post_conv_layernorm", hidden, config.RmsNormEps);
            _positions = new VisionPositionEmbedding(
                VisionWeights.Floats(source, prefix + "embeddings.position_embedding.weight", [(long)side * side, hidden]), side);
        }
        _rope = new VisionRope2D(config.HeadDim);
        var blocks = w.At("blocks");
        _blocks = [.. Enumerable.Range(0, config.Depth).Select(i => new VisionBlock(blocks.At(i), backend, config))];
        _postNorm = RmsNorm.Load(w, backend, "post_layernorm", hidden, config.RmsNormEps);
        _merger = new VisionPatchMerger(w, source, prefix, backend, config);
    }

    /// <summary>The tower of a Glm4vForConditionalGeneration checkpoint: <c>model.visual.*</c> of <paramref name="source"/>.</summary>
    public static Glm4vVisionTower FromHuggingFace(ITensorSource source, Glm4vVisionConfig config, Glm4vPreprocessorConfig preprocessor,
        IComputeBackend? backend = null)
    {
        var t = config;
        var kernel = VisionWeights.Floats(source, Glm4vVisionTensors.HfPrefix + Glm4vVisionTensors.HfPatchKernel,
            [t.HiddenSize, t.InChannels, t.TemporalPatchSize, t.PatchSize, t.PatchSize]);
        return new Glm4vVisionTower(source, Glm4vVisionTensors.HfPrefix, kernel, config, preprocessor, backend ?? CpuBackend.Instance);
    }

    /// <summary>The tower of a llama.cpp glm4v mmproj GGUF (its clip.* keys and v.* / mm.* tensors).</summary>
    public static Glm4vVisionTower FromMmproj(string path, IComputeBackend? backend = null)
    {
        var file = Open(path);
        try
        {
            var (config, preprocessor) = Glm4vMmproj.Read(file.Metadata);
            // The Conv3d kernel is stored as two 2-D slices, read apart below; every other tensor maps one to one.
            var names = Glm4vVisionTensors.Table(config).Where(e => e.HfName != Glm4vVisionTensors.HfPatchKernel)
                .ToDictionary(e => e.GgufName, e => Glm4vVisionTensors.HfPrefix + e.HfName);
            var source = new GgufTensorSource(file, n => names.GetValueOrDefault(n));
            string slice = Glm4vVisionTensors.Mmproj(config)[0].Name;
            long[] sliceShape = [config.HiddenSize, config.InChannels, config.PatchSize, config.PatchSize];
            var kernel = VisionPatchEmbedding.FromTemporalSlices(
                VisionWeights.Floats(Tensor(file, slice), sliceShape), VisionWeights.Floats(Tensor(file, slice + ".1"), sliceShape),
                new float[config.HiddenSize], config.InChannels).Weight;
            return new Glm4vVisionTower(source, Glm4vVisionTensors.HfPrefix, kernel, config, preprocessor, backend ?? CpuBackend.Instance);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static GgufFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: mmproj file not found");
        try
        {
            return GgufFile.Open(path);
        }
        catch (GlmException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new ModelFormatException($"{path}: not a readable GGUF mmproj file ({e.Message})", e);
        }
    }

    private static TensorView Tensor(GgufFile file, string name) =>
        file.TryGetTensorInfo(name, out var info) ? file.View(info) : throw new ModelFormatException($"{file.Path}: tensor '{name}' is missing");

    /// <summary>One image's tokens for the text model: [input.MergedTokenCount, OutputWidth], row-major, in merge-block order.</summary>
    public float[] Encode(VisionInput input)
    {
        if (input.GridT != 1) throw new ImageInputException($"{Origin}: a still image has one temporal patch, this input has {input.GridT}");
        int n = input.PatchCount, hidden = Config.HiddenSize;
        var order = VisionPatchPositions.InMergeOrder(input.GridH, input.GridW, input.MergeSize);
        using var s = new VisionScratch(_backend, Config, n);
        var hiddenRows = s.Hidden.Take(n * hidden);

        var patches = _backend.Upload<float>(input.Patches);
        try
        {
            _backend.MatMul(_patchKernel, patches, hiddenRows, n);
        }
        finally
        {
            patches.Memory.Dispose();
        }
        _backend.AddBias(hiddenRows, _patchBias, n);
        // GLM-OCR's tower has neither: 2-D RoPE inside attention is its only position signal.
        if (_postConvNorm is not null && _positions is not null)
        {
            _postConvNorm.Apply(hiddenRows, hiddenRows, n);
            _backend.Upload<float>(_positions.ForPatches(order, input.GridH, input.GridW), s.Projected.Take(n * hidden));
            _backend.Add(hiddenRows, s.Projected.Take(n * hidden));
        }

        var angles = new VisionPatchAngles(_rope, order);
        foreach (var block in _blocks) block.Forward(s, angles);
        _postNorm.Apply(hiddenRows, hiddenRows, n);
        return _backend.ToArray(_merger.Forward(s));
    }

    public void Dispose()
    {
        _patchKernel.Storage?.Dispose();
        _merger.Dispose();
        _source.Dispose();
    }
}
