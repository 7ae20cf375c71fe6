namespace GlmSharp.Training;

/// <summary>
/// A model the training loop runs: its parameters, a forward pass that returns the loss it reports (the next-token
/// cross-entropy), the backward pass of the loss it optimises, and what it does after each optimiser step.
/// </summary>
public interface ITrainingModel
{
    /// <summary>The Hugging Face model_type it trains ("glm4", "glm4_moe").</summary>
    string Architecture { get; }

    /// <summary>Its shape as JSON, what a checkpoint records and a resumed run must match.</summary>
    string ShapeJson { get; }

    TrainingParameters Parameters { get; }
    int VocabSize { get; }

    /// <summary>Rows of one forward pass: batch × sequence length.</summary>
    int Rows { get; }

    /// <summary>Mean next-token cross-entropy of <paramref name="targets"/> (negative = not scored); keeps what <see cref="Backward"/> needs.</summary>
    float Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets);

    /// <summary>Adds the gradient of the last forward pass's training loss to <see cref="TrainingParameters.Gradients"/>.</summary>
    void Backward();

    /// <summary>State that moves outside the gradient, after each optimiser step (GLM-4.5's router balancing).</summary>
    void AfterStep();
}

/// <summary>The checks every training model makes of a batch before it runs.</summary>
internal static class TrainingBatch
{
    /// <summary>A positive batch of sequences that fit the model's positions.</summary>
    public static void CheckSize(int batchSize, int seqLen, int maxPositions)
    {
        if (batchSize <= 0) throw new Errors.GlmException($"batch size must be positive, found {batchSize}");
        if (seqLen <= 0 || seqLen > maxPositions)
            throw new Errors.GlmException($"sequence length {seqLen} must be in [1, max_position_embeddings {maxPositions}]");
    }

    /// <summary>One input and one target per row; inputs inside the vocabulary, targets inside it or negative (not scored).</summary>
    public static void Check(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int rows, int vocab)
    {
        if (inputs.Length != rows || targets.Length != rows)
            throw new ArgumentException($"expected {rows} inputs and targets, found {inputs.Length} and {targets.Length}");
        foreach (int id in inputs)
            if ((uint)id >= (uint)vocab) throw new Errors.ContextLimitException($"token id {id} is outside the vocabulary of {vocab}");
        foreach (int id in targets)
            if (id >= vocab) throw new Errors.ContextLimitException($"target id {id} is outside the vocabulary of {vocab}");
    }
}
