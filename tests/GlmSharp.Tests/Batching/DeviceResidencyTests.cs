using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Batching;

/// <summary>
/// Activations, parameters and the cache stay in the backend's memory: a step sends nothing to the backend but what
/// the interface takes from the host (token ids, positions, block tables), and brings back only the logits asked for.
/// </summary>
public sealed class DeviceResidencyTests
{
    [Fact]
    public void A_Mixed_Step_Moves_Only_The_Requested_Logits_And_Allocates_No_Backend_Memory()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 3).WriteGguf(dir.File("model.gguf"), GgmlType.Q8_0);
        var backend = new TransferCountingBackend(CpuBackend.Instance);
        using var loaded = ModelLoader.Load(gguf, backend);
        Assert.True(backend.UploadedBytes > 0, "norm scales and biases are uploaded once, at load");
        using var context = loaded.Model.CreateContext(256, maxStepRows: 16);
        int first = context.Cache.CreateSequence(), second = context.Cache.CreateSequence();

        var batch = new Batch();
        for (int i = 0; i < 5; i++) batch.Add(spec.RandomPrompt(5, 1)[i], first, i, wantsLogits: i == 4);
        batch.Add(7, second, 0, wantsLogits: true);
        backend.ResetCounts();
        var logits = new float[2 * spec.Vocab];
        loaded.Model.Decode(batch, context, logits);

        Assert.Equal(0, backend.Allocations);
        Assert.Equal(0, backend.UploadedBytes);
        Assert.Equal(2L * spec.Vocab * sizeof(float), backend.DownloadedBytes);
    }

    [Fact]
    public void The_Cpu_Backend_Refuses_Memory_It_Cannot_Read()
    {
        using var foreign = new ForeignMemory(64);
        var y = CpuBackend.Instance.Allocate<float>(16);
        var e = Assert.Throws<ArgumentException>(() => CpuBackend.Instance.Add(foreign.As<float>(), y));
        Assert.Contains("cannot read ForeignMemory", e.Message);
    }

    [Fact]
    public void Device_Spans_Are_Checked_Against_Their_Memory()
    {
        var span = CpuBackend.Instance.Allocate<float>(8);
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(6, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(9));
        Assert.Equal(2, span.Slice(6).Length);
    }

    private sealed class ForeignMemory(long bytes) : DeviceMemory(bytes)
    {
        public override void Dispose() { }
    }
}
