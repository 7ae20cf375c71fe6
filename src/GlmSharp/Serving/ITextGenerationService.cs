using GlmSharp.Inference;
using GlmSharp.Vision;

namespace GlmSharp.Serving;

/// <summary>What a server needs of an engine: token streams for many requests at once.</summary>
public interface ITextGenerationService : IDisposable
{
    /// <summary>The most positions one request may hold, prompt and output together.</summary>
    int ContextLength { get; }

    /// <summary>Requests waiting for a place in the running batch.</summary>
    int Waiting { get; }

    /// <summary>Requests being decoded.</summary>
    int Running { get; }

    /// <summary>How much of the KV cache is in use.</summary>
    KvBlockPoolUse CacheUse { get; }

    /// <summary>Streams the continuation of <paramref name="prompt"/>; refuses a prompt over the context at once.</summary>
    IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default);

    /// <summary>Streams the continuation of a prompt whose rows may hold images; an engine without image support takes text prompts only.</summary>
    IAsyncEnumerable<GenerationChunk> GenerateAsync(MultimodalPrompt prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        prompt.ImageCount == 0 ? GenerateAsync(prompt.Tokens, options, cancellationToken)
        : throw new NotSupportedException("this engine takes text prompts only");
}
