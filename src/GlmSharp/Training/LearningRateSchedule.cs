using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// Linear warm-up from peak/warmup to the peak over the first <c>warmupSteps</c> steps, then a half cosine from the peak
/// down to <c>minimum</c> at step <c>totalSteps − 1</c>. Steps count from zero.
/// </summary>
public sealed record LearningRateSchedule(float Peak, float Minimum, int WarmupSteps, int TotalSteps)
{
    public float At(long step)
    {
        if (Peak <= 0 || Minimum < 0 || Minimum > Peak)
            throw new GlmException($"learning rates need 0 <= minimum ({Minimum}) <= peak ({Peak}) and peak > 0");
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        int decaySteps = TotalSteps - 1 - WarmupSteps;
        if (decaySteps <= 0) return Peak;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        return (float)(Minimum + 0.5 * (Peak - Minimum) * (1 + Math.Cos(Math.PI * progress)));
    }
}
