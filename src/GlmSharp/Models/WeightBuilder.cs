using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// Hands out a model's weights by path, the way the module tree names them
/// (<c>weights.At("model").At("layers").At(3).At("self_attn").Matrix("q_proj.weight", …)</c>),
/// and checks every shape when the model is built, so a bad checkpoint fails at load with the tensor named.
/// </summary>
public sealed unsafe class WeightBuilder
{
    private readonly ITensorSource _source;
    private readonly string _prefix;
    private readonly IComputeBackend _backend;
    private readonly TensorListing? _listing;

    public WeightBuilder(ITensorSource source, IComputeBackend backend) : this(source, backend, "", null) { }

    private WeightBuilder(ITensorSource source, IComputeBackend backend, string prefix, TensorListing? listing)
    {
        _source = source;
        _backend = backend;
        _prefix = prefix;
        _listing = listing;
    }

    /// <summary>
    /// A builder that reads no weights: it records every tensor name and shape the model asks for, which gives
    /// the exact tensor list of a real config without its weights.
    /// </summary>
    public static WeightBuilder ForListing(TensorListing listing) => new(listing, Kernels.Cpu.CpuBackend.Instance, "", listing);

    /// <summary>The backend the model being built will compute on.</summary>
    public IComputeBackend Backend => _backend;

    public WeightBuilder At(string name) => new(_source, _backend, _prefix + name + ".", _listing);

    public WeightBuilder At(int index) => At(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public bool Has(string name) => _listing?.IsPresent(_prefix + name) ?? _source.TryGet(_prefix + name, out _);

    /// <summary>A weight used as stored (memory-mapped, never copied), checked to be [rows, columns].</summary>
    public TensorView Matrix(string name, long rows, long columns)
    {
        if (_listing is not null) return _listing.Record(_prefix + name, [rows, columns]);
        var tensor = Require(name);
        CheckShape(tensor, [rows, columns]);
        if (!GgmlTypeInfo.IsSupported(tensor.Type))
            throw new UnsupportedModelException($"{_source.Origin}: tensor '{tensor.Name}' has element type {tensor.Type}, which GlmSharp cannot compute with yet");
        return tensor;
    }

    /// <summary>A small 1-D weight (norm scale, bias) decoded to fp32 once at load, in the backend's memory.</summary>
    public DeviceSpan<float> Parameter(string name, long length) => _backend.Upload<float>(Vector(name, length));

    public DeviceSpan<float>? OptionalParameter(string name, long length) => Has(name) ? Parameter(name, length) : null;

    /// <summary>A small 1-D weight decoded to fp32 on the host.</summary>
    public float[] Vector(string name, long length)
    {
        if (_listing is not null)
        {
            _listing.Record(_prefix + name, [length]);
            return new float[length];
        }
        var tensor = Require(name);
        CheckShape(tensor, [length]);
        var values = new float[length];
        TensorRows.Decode(new TensorView(tensor.Name, tensor.Type, [1, length], tensor.Data, tensor.ByteLength, tensor.Origin), 0, values);
        return values;
    }

    public float[]? OptionalVector(string name, long length) => Has(name) ? Vector(name, length) : null;

    private TensorView Require(string name)
    {
        if (_source.TryGet(_prefix + name, out var tensor)) return tensor;
        throw new ModelFormatException($"{_source.Origin}: tensor '{_prefix + name}' is missing");
    }

    private void CheckShape(TensorView tensor, long[] expected)
    {
        if (!tensor.Shape.AsSpan().SequenceEqual(expected))
            throw new ModelFormatException(
                $"{_source.Origin}: tensor '{tensor.Name}' has shape {tensor.ShapeText}, expected [{string.Join(",", expected)}]");
    }
}
