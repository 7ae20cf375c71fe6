using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Vision;

/// <summary>
/// The activation buffers of one image through the vision tower, in the backend's memory, sized from the config and
/// the image's patch count: allocated per image (an image is encoded once) and freed when it is done.
/// </summary>
internal sealed class VisionScratch : IDisposable
{
    private readonly List<DeviceMemory> _memory = [];

    public int Patches { get; }
    public int Tokens { get; }

    public DeviceSpan<float> Hidden { get; }        // (patches, hidden) residual stream
    public DeviceSpan<float> Normed { get; }        // (patches, hidden) normalised input of a sub-layer
    public DeviceSpan<float> Projected { get; }     // (patches, hidden) output of a sub-layer
    public DeviceSpan<float> QueryKeyValue { get; } // (patches, 3·hidden): q, k, v of every head, per row
    public DeviceSpan<float> Query { get; }         // (patches, hidden) each, after the 2-D RoPE
    public DeviceSpan<float> Key { get; }
    public DeviceSpan<float> Value { get; }
    public DeviceSpan<float> Attention { get; }     // (patches, hidden)
    public DeviceSpan<float> GateUp { get; }        // (rows, width) gate then (rows, width) up, for the widest MLP
    public DeviceSpan<float> Activated { get; }     // (rows, width)
    public DeviceSpan<float> Merged { get; }        // (tokens, out) after the downsample and the projection
    public DeviceSpan<float> MergedNormed { get; }  // (tokens, out)

    /// <summary>
    /// Host copies of a block's fused q/k/v rows and of q, k, v after RoPE, for the split that runs on the host: allocated
    /// once per image, not once per block (a 4K image's four arrays are 1.5 GB).
    /// </summary>
    public float[] HostQueryKeyValue { get; }
    public float[] HostQuery { get; }
    public float[] HostKey { get; }
    public float[] HostValue { get; }

    public VisionScratch(IComputeBackend backend, Glm4vVisionConfig c, int patches)
    {
        Patches = patches;
        Tokens = patches / (c.SpatialMergeSize * c.SpatialMergeSize);
        long hidden = (long)patches * c.HiddenSize;
        long mlp = Math.Max((long)patches * c.BlockMlpWidth, (long)Tokens * c.MergerWidth);
        try
        {
            Hidden = Floats(backend, hidden);
            Normed = Floats(backend, hidden);
            Projected = Floats(backend, hidden);
            QueryKeyValue = Floats(backend, 3 * hidden);
            Query = Floats(backend, hidden);
            Key = Floats(backend, hidden);
            Value = Floats(backend, hidden);
            Attention = Floats(backend, hidden);
            GateUp = Floats(backend, 2 * mlp);
            Activated = Floats(backend, mlp);
            Merged = Floats(backend, (long)Tokens * c.OutHiddenSize);
            MergedNormed = Floats(backend, (long)Tokens * c.OutHiddenSize);
            HostQueryKeyValue = GC.AllocateUninitializedArray<float>(checked((int)(3 * hidden)));
            HostQuery = GC.AllocateUninitializedArray<float>(checked((int)hidden));
            HostKey = GC.AllocateUninitializedArray<float>(checked((int)hidden));
            HostValue = GC.AllocateUninitializedArray<float>(checked((int)hidden));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private DeviceSpan<float> Floats(IComputeBackend backend, long length)
    {
        var span = backend.Allocate<float>(checked((int)length));
        _memory.Add(span.Memory);
        return span;
    }

    public void Dispose()
    {
        foreach (var memory in _memory) memory.Dispose();
    }
}
