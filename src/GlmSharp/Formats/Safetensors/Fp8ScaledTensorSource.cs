using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>
/// A Hugging Face checkpoint's tensors with each F8_E4M3 weight handed out together with its block scales
/// (<c>&lt;name&gt;_scale_inv</c>), checked to have one scale per block; the scale tensors themselves are not
/// listed as weights. Both stay memory-mapped.
/// </summary>
public sealed unsafe class Fp8ScaledTensorSource : ITensorSource
{
    public const string ScaleSuffix = "_scale_inv";

    private readonly ITensorSource _inner;
    private readonly Fp8Quantization? _quantization;

    /// <param name="quantization">The config's FP8 block layout; null when config.json declares none.</param>
    public Fp8ScaledTensorSource(ITensorSource inner, Fp8Quantization? quantization)
    {
        _inner = inner;
        _quantization = quantization;
        Names = inner.Names.Where(n => !n.EndsWith(ScaleSuffix, StringComparison.Ordinal)).ToArray();
    }

    public string Origin => _inner.Origin;

    public IReadOnlyCollection<string> Names { get; }

    public bool TryGet(string name, out TensorView tensor)
    {
        if (!_inner.TryGet(name, out tensor)) return false;
        if (tensor.Type != GgmlType.F8_E4M3) return true;

        string scaleName = name + ScaleSuffix;
        if (_quantization is null)
            throw new ModelFormatException($"{Origin}: tensor '{name}' is F8_E4M3, but config.json has no '{Fp8Quantization.Key}' giving its block size");
        if (tensor.Shape.Length != 2)
            throw new ModelFormatException($"{Origin}: tensor '{name}' is F8_E4M3 with shape {tensor.ShapeText}; block scales need a matrix");
        if (!_inner.TryGet(scaleName, out var scales))
            throw new ModelFormatException($"{Origin}: tensor '{name}' is F8_E4M3, but its scale tensor '{scaleName}' is missing");
        long[] expected = [Blocks(tensor.Shape[0], _quantization.BlockRows), Blocks(tensor.Shape[1], _quantization.BlockColumns)];
        if (!scales.Shape.AsSpan().SequenceEqual(expected))
            throw new ModelFormatException(
                $"{Origin}: scale tensor '{scaleName}' has shape {scales.ShapeText}, expected [{expected[0]},{expected[1]}] " +
                $"(one per {_quantization.BlockRows}×{_quantization.BlockColumns} block of '{name}' {tensor.ShapeText})");
        if (scales.Type is not (GgmlType.F32 or GgmlType.BF16))
            throw new ModelFormatException($"{Origin}: scale tensor '{scaleName}' is {scales.Type}, expected F32 or BF16");

        tensor = new TensorView(tensor.Name, tensor.Type, tensor.Shape, tensor.Data, tensor.ByteLength, tensor.Origin)
        {
            Scales = new BlockScales(scales, _quantization.BlockRows, _quantization.BlockColumns),
        };
        return true;
    }

    private static long Blocks(long length, int block) => (length + block - 1) / block;

    public void Dispose() => _inner.Dispose();
}
