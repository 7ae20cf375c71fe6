namespace GlmSharp.Training;

/// <summary>How a run trains: steps, batch geometry, the learning-rate schedule, optimiser, clipping and bookkeeping.</summary>
public sealed record TrainingOptions
{
    public required int Steps { get; init; }
    public required int BatchSize { get; init; }
    public required int SeqLen { get; init; }
    public float LearningRate { get; init; } = 1e-3f;
    public float MinLearningRate { get; init; } = 1e-4f;
    public int WarmupSteps { get; init; } = 100;
    public float GradientClip { get; init; } = 1.0f;
    public ulong Seed { get; init; } = 1234;
    public AdamWOptions Optimizer { get; init; } = new();

    /// <summary>Evaluate on the validation stream every this many steps (and after the last); 0 = only after the last.</summary>
    public int EvalInterval { get; init; }

    public int EvalBatches { get; init; } = 8;

    /// <summary>Folder for <c>checkpoint.bin</c>; null = no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    public int CheckpointInterval { get; init; } = 500;

    /// <summary>Rows of each batch drawn from the plain text given to <see cref="ModelTrainer.Run"/> rather than the training stream.</summary>
    public int PlainTextRows { get; init; }

    public LearningRateSchedule Schedule => new(LearningRate, MinLearningRate, WarmupSteps, Steps);
}

/// <summary>One report per step.</summary>
public sealed record TrainingProgress(
    long Step,
    int TotalSteps,
    float Loss,
    float LearningRate,
    float GradientNorm,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining,
    float? ValidationLoss);
