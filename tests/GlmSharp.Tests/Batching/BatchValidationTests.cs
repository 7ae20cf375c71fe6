using GlmSharp.Batching;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Batching;

/// <summary>A bad batch is refused with a message naming the row and the limit, before any sequence changes.</summary>
public sealed class BatchValidationTests : IDisposable
{
    private static readonly TinyGlmSpec Spec = new("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false, Context: 48);
    private readonly TempDirectory _dir = new();
    private readonly LoadedModel _model;

    public BatchValidationTests()
    {
        _model = ModelLoader.Load(new RandomGlmCheckpoint(Spec, seed: 2).WriteGguf(_dir.File("model.gguf"), GgmlType.F32));
    }

    private (ModelContext Context, int A, int B) TwoSequences(int cachePositions = 256)
    {
        var context = _model.Model.CreateContext(cachePositions, maxStepRows: 8, KvCacheType.F32, blockPositions: 16);
        int a = context.Cache.CreateSequence(), b = context.Cache.CreateSequence();
        var batch = new Batch();
        batch.AddSequence([1, 2, 3], a, 0);
        _model.Model.Decode(batch, context, new float[Spec.Vocab]);
        return (context, a, b);
    }

    [Fact]
    public void A_Row_That_Skips_A_Position_Is_Refused_Naming_Row_And_Positions()
    {
        var (context, a, b) = TwoSequences();
        using var _ = context;
        var batch = new Batch();
        batch.Add(5, b, 0);
        batch.Add(6, a, 4);
        var error = Assert.Throws<ArgumentException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab]));
        Assert.Contains("batch row 1: sequence 0 continues at position 3, the row says 4", error.Message);
        Assert.Equal(0, context.Cache.Length(b));
    }

    [Fact]
    public void Token_Ids_Outside_The_Vocabulary_And_Unknown_Sequences_Are_Refused()
    {
        var (context, a, _) = TwoSequences();
        using var __ = context;
        var batch = new Batch();
        batch.Add(Spec.Vocab, a, 3);
        Assert.Contains("batch row 0: token id 160 is outside the vocabulary", Assert.Throws<ContextLimitException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab])).Message);
        batch.Clear();
        batch.Add(1, 7, 0);
        Assert.Contains("sequence 7 does not exist", Assert.Throws<ArgumentException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab])).Message);
        Assert.Equal(3, context.Cache.Length(a));
    }

    [Fact]
    public void A_Sequence_Past_The_Model_Context_Is_A_Context_Limit_Error()
    {
        var (context, _, b) = TwoSequences();
        using var __ = context;
        var batch = new Batch();
        batch.AddSequence(new int[Spec.Context + 1], b, 0);
        Assert.Contains($"more than the context of {Spec.Context}", Assert.Throws<ContextLimitException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab])).Message);
        Assert.Equal(0, context.Cache.Length(b));
    }

    [Fact]
    public void A_Step_The_Pool_Cannot_Hold_Is_Refused_And_The_Context_Still_Runs()
    {
        var (context, a, b) = TwoSequences(cachePositions: 32);
        using var _ = context;
        var batch = new Batch();
        batch.AddSequence(new int[30], b, 0);
        Assert.Throws<KvCacheFullException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab]));
        Assert.Equal(0, context.Cache.Length(b));
        batch.Clear();
        batch.AddSequence([4, 5], b, 0);
        _model.Model.Decode(batch, context, new float[Spec.Vocab]);
        Assert.Equal(2, context.Cache.Length(b));
        Assert.Equal(3, context.Cache.Length(a));
    }

    [Fact]
    public void A_Logits_Buffer_Smaller_Than_The_Rows_That_Ask_Is_Refused()
    {
        var (context, a, _) = TwoSequences();
        using var __ = context;
        var batch = new Batch();
        batch.Add(1, a, 3, wantsLogits: true);
        Assert.Contains("logits buffer holds", Assert.Throws<ArgumentException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab - 1])).Message);
    }

    [Fact]
    public void A_Batch_With_Another_Number_Of_Position_Components_Is_Refused()
    {
        var (context, a, _) = TwoSequences();
        using var __ = context;
        var batch = new Batch(positionComponents: 4);
        batch.Add(1, a, [3, 3, 3, 0]);
        Assert.Contains("carries 4 position components per row", Assert.Throws<ArgumentException>(() => _model.Model.Decode(batch, context, new float[Spec.Vocab])).Message);
    }

    [Fact]
    public void A_Byte_Budget_Buys_Whole_Blocks_Of_Every_Layer()
    {
        using var probe = _model.Model.CreateContext(16, cacheType: KvCacheType.F16, blockPositions: 16);
        long perBlock = probe.Pool.BytesPerBlock;
        using var context = _model.Model.CreateContextWithBudget(5 * perBlock / 2, cacheType: KvCacheType.F16, blockPositions: 16);
        Assert.Equal(2, context.Pool.BlockCount);
        Assert.Equal(2 * perBlock, context.Pool.CapacityBytes);
    }

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }
}
