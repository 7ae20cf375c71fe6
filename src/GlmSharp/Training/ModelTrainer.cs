using System.Diagnostics;

namespace GlmSharp.Training;

/// <summary>
/// The training loop: sample a batch for the step, forward, backward, clip the global gradient norm, AdamW with the
/// warm-up + cosine learning rate, then the model's own update (router balancing); evaluate and checkpoint at intervals.
/// </summary>
public sealed class ModelTrainer
{
    public const string CheckpointFileName = "checkpoint.bin";

    private readonly int[] _inputs;
    private readonly int[] _targets;

    public ModelTrainer(ITrainingModel model, TrainingOptions options)
    {
        if (model.Rows != options.BatchSize * options.SeqLen)
            throw new ArgumentException($"the model runs {model.Rows} rows a step, the options ask for {options.BatchSize}×{options.SeqLen}");
        Model = model;
        Options = options;
        Optimizer = new AdamW(model.Parameters, options.Optimizer);
        _inputs = new int[model.Rows];
        _targets = new int[model.Rows];
    }

    public ModelTrainer(Glm4TrainingWeights weights, TrainingOptions options)
        : this(new Glm4TrainingModel(weights, options.BatchSize, options.SeqLen), options)
    {
    }

    public ITrainingModel Model { get; }
    public TrainingParameters Parameters => Model.Parameters;
    public TrainingOptions Options { get; }
    public AdamW Optimizer { get; }

    /// <summary>Steps completed so far.</summary>
    public long Step { get; private set; }

    public string? CheckpointPath =>
        Options.CheckpointDirectory is null ? null : Path.Combine(Options.CheckpointDirectory, CheckpointFileName);

    public void Resume(TrainingCheckpoint checkpoint)
    {
        checkpoint.RestoreInto(Model, Optimizer);
        Step = checkpoint.Step;
    }

    public void SaveCheckpoint(string path) => TrainingCheckpoint.Save(path, Model, Step, Optimizer);

    /// <summary>One optimiser step on the sampler's batch for the current step; returns the loss and the gradient norm.</summary>
    public (float Loss, float GradientNorm, float LearningRate) TrainStep(TokenBatchSampler sampler)
    {
        sampler.Fill(Step, _inputs, _targets);
        Parameters.ZeroGradients();
        float loss = Model.Forward(_inputs, _targets);
        Model.Backward();
        float norm = GradientClipping.ClipByGlobalNorm(Parameters.Gradients, Options.GradientClip);
        float lr = Options.Schedule.At(Step);
        Optimizer.Step(lr);
        Model.AfterStep();
        Step++;
        return (loss, norm, lr);
    }

    /// <summary>Mean loss over up to <see cref="TrainingOptions.EvalBatches"/> consecutive batches of the stream.</summary>
    public float Evaluate(TokenStream stream)
    {
        double sum = 0;
        int batches = 0;
        foreach (var (inputs, targets) in TokenBatchSampler.Sequential(stream, Options.BatchSize, Options.SeqLen, Options.EvalBatches))
        {
            sum += Model.Forward(inputs, targets);
            batches++;
        }
        return batches == 0 ? float.NaN : (float)(sum / batches);
    }

    /// <summary>
    /// Trains until <see cref="TrainingOptions.Steps"/> steps are done; returns the last validation loss (NaN without one).
    /// <paramref name="plainText"/> feeds the <see cref="TrainingOptions.PlainTextRows"/> rows of each batch.
    /// On cancellation the finished steps are checkpointed first, so the run can be resumed.
    /// </summary>
    public float Run(TokenStream train, TokenStream? validation, Action<TrainingProgress>? onProgress = null,
        CancellationToken cancellation = default, TokenStream? plainText = null)
    {
        train.CheckVocabulary(Model.VocabSize, "training data");
        validation?.CheckVocabulary(Model.VocabSize, "validation data");
        plainText?.CheckVocabulary(Model.VocabSize, "plain text");
        if (Options.CheckpointDirectory is not null) Directory.CreateDirectory(Options.CheckpointDirectory);
        var sampler = new TokenBatchSampler(train, Options.BatchSize, Options.SeqLen, Options.Seed, plainText, Options.PlainTextRows);
        var clock = Stopwatch.StartNew();
        long firstStep = Step;
        float validationLoss = float.NaN;
        while (Step < Options.Steps)
        {
            if (cancellation.IsCancellationRequested)
            {
                if (CheckpointPath is { } interrupted) SaveCheckpoint(interrupted);
                cancellation.ThrowIfCancellationRequested();
            }
            var (loss, norm, lr) = TrainStep(sampler);
            bool last = Step == Options.Steps;
            float? evaluated = null;
            if (validation is not null && (last || (Options.EvalInterval > 0 && Step % Options.EvalInterval == 0)))
                evaluated = validationLoss = Evaluate(validation);
            if (CheckpointPath is { } path && (last || Step % Options.CheckpointInterval == 0)) SaveCheckpoint(path);
            double seconds = clock.Elapsed.TotalSeconds;
            long done = Step - firstStep;
            onProgress?.Invoke(new TrainingProgress(Step, Options.Steps, loss, lr, norm,
                done * (double)Model.Rows / seconds, clock.Elapsed,
                TimeSpan.FromSeconds(seconds / done * (Options.Steps - Step)), evaluated));
        }
        return validationLoss;
    }
}
