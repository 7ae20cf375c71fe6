using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Batching;

/// <summary>
/// Many sequences in one step give each sequence the logits it gets alone: 4 to 16 sequences of different lengths,
/// prefill rows of some and decode rows of others in the same step.
/// </summary>
public sealed class BatchedDecodeTests(ITestOutputHelper output)
{
    public static TheoryData<TinyGlmSpec, GgmlType, int> Cases() => new()
    {
        { new TinyGlmSpec("glm4", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false), GgmlType.F32, 4 },
        { new TinyGlmSpec("glm4", 192, 96, 2, 8, 2, 16, 128, 0.5, Bias: false, Tied: true), GgmlType.Q8_0, 9 },
        { new TinyGlmSpec("glm4", 160, 64, 2, 8, 1, 8, 96, 1.0, Bias: true, Tied: true), GgmlType.Q4_0, 16 },
        { new TinyGlmSpec("glm", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false), GgmlType.F16, 6 },
        { new TinyGlmSpec("glm", 150, 80, 2, 10, 5, 8, 80, 0.25, Bias: true, Tied: false), GgmlType.F32, 16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_Sequence_Of_A_Mixed_Batch_Gets_The_Logits_It_Gets_Alone(TinyGlmSpec spec, GgmlType type, int sequences)
    {
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: spec.Hidden + sequences).WriteGguf(dir.File("model.gguf"), type);
        using var loaded = ModelLoader.Load(gguf);
        var schedule = new MixedBatchSchedule(spec, sequences, decodeSteps: 6, seed: sequences);

        var batched = GlmSharpRun.ScheduleLogits(loaded, schedule);
        var alone = GlmSharpRun.ScheduleLogitsAlone(loaded, schedule);

        double error = LogitComparison.WorstRelativeError(batched, alone, spec.Vocab);
        output.WriteLine($"{spec} {type}, {sequences} sequences, {schedule.Steps.Count} steps: worst relative logit error {error:E2}");
        Assert.True(error <= BatchInvariance.Bound(type), $"worst relative logit error {error:E2} > {BatchInvariance.Bound(type):E0}");
    }

    /// <summary>
    /// glm4_moe: rows of many sequences are routed together, so each expert's product takes the rows of several
    /// sequences; each sequence must still get its logits alone.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F32, 8)]
    [InlineData(GgmlType.Q8_0, 12)]
    public void Mixture_Of_Experts_Batches_Give_Each_Sequence_Its_Logits_Alone(GgmlType type, int sequences)
    {
        var spec = new TinyMoeSpec(160, 64, 3, 4, 2, 32, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 64, SharedExperts: 1, FirstDense: 1, QkNorm: true);
        using var dir = new TempDirectory();
        string gguf = new RandomMoeCheckpoint(spec, seed: 21).WriteGguf(dir.File("model.gguf"), type);
        using var loaded = ModelLoader.Load(gguf);
        var schedule = new MixedBatchSchedule(spec.RandomPrompt, sequences, decodeSteps: 5, seed: sequences);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.ScheduleLogits(loaded, schedule), GlmSharpRun.ScheduleLogitsAlone(loaded, schedule), spec.Vocab);
        output.WriteLine($"glm4_moe {type}, {sequences} sequences: worst relative logit error {error:E2}");
        Assert.True(error <= BatchInvariance.Bound(type), $"worst relative logit error {error:E2} > {BatchInvariance.Bound(type):E0}");
    }

    [Theory]
    [InlineData(GgmlType.F32, 16)]
    [InlineData(GgmlType.Q8_0, 32)]
    public void Small_Blocks_And_Short_Steps_Change_No_Logit(GgmlType type, int blockPositions)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 16, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 5).WriteGguf(dir.File("model.gguf"), type);
        using var loaded = ModelLoader.Load(gguf);
        var schedule = new MixedBatchSchedule(spec, 5, decodeSteps: 4, seed: 3);

        var wide = GlmSharpRun.ScheduleLogits(loaded, schedule);
        var narrow = GlmSharpRun.ScheduleLogits(loaded, schedule, blockPositions: blockPositions, maxStepRows: 7);
        double error = LogitComparison.WorstRelativeError(narrow, wide, spec.Vocab);
        output.WriteLine($"{type}: blocks of {blockPositions}, steps of 7 rows against 64 and 512: {error:E2}");
        Assert.True(error <= BatchInvariance.Bound(type), $"worst relative logit error {error:E2} > {BatchInvariance.Bound(type):E0}");
    }

    /// <summary>Two continuations of one prompt forked in the cache (stored once) equal each continuation run from scratch.</summary>
    [Fact]
    public void Forked_Continuations_Of_A_Shared_Prompt_Match_Their_Own_Full_Runs()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 16, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        using var loaded = ModelLoader.Load(new RandomGlmCheckpoint(spec, seed: 9).WriteGguf(dir.File("model.gguf"), GgmlType.F32));
        int vocab = spec.Vocab;
        var prompt = spec.RandomPrompt(37, seed: 1);
        int[] left = [5, 6, 7], right = [9, 8];

        using var context = loaded.Model.CreateContext(256, cacheType: KvCacheType.F32, blockPositions: 16);
        var batch = new Batch();
        int root = context.Cache.CreateSequence();
        batch.AddSequence(prompt, root, 0);
        loaded.Model.Decode(batch, context, new float[vocab]);
        int branch = context.Cache.Fork(root);
        long shared = context.Pool.UsedBytes;

        batch.Clear();
        batch.AddSequence(left, root, prompt.Length);
        batch.AddSequence(right, branch, prompt.Length);
        var forked = new float[2 * vocab];
        loaded.Model.Decode(batch, context, forked);
        Assert.Equal(shared + context.Pool.BytesPerBlock, context.Pool.UsedBytes); // only the partial block was copied

        var expectedLeft = GlmSharpRun.Logits(loaded, [.. prompt, .. left]).AsSpan((prompt.Length + left.Length - 1) * vocab, vocab);
        var expectedRight = GlmSharpRun.Logits(loaded, [.. prompt, .. right]).AsSpan((prompt.Length + right.Length - 1) * vocab, vocab);
        Assert.True(LogitComparison.WorstRelativeError(forked.AsSpan(0, vocab), expectedLeft, vocab) <= BatchInvariance.Bound(GgmlType.F32));
        Assert.True(LogitComparison.WorstRelativeError(forked.AsSpan(vocab, vocab), expectedRight, vocab) <= BatchInvariance.Bound(GgmlType.F32));
    }
}
