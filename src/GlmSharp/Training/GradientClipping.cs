using System.Numerics.Tensors;

namespace GlmSharp.Training;

/// <summary>Clips the gradient by its global L2 norm over all parameters, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>Scales the gradients by maxNorm/(norm + 1e-6) when their norm exceeds maxNorm; returns the norm before.</summary>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        float norm = TensorPrimitives.Norm(gradients);
        if (maxNorm > 0 && norm > maxNorm) TensorPrimitives.Multiply(gradients, maxNorm / (norm + 1e-6f), gradients);
        return norm;
    }
}
