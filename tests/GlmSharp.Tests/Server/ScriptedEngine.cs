using System.Runtime.CompilerServices;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Serving;

namespace GlmSharp.Tests.Server;

/// <summary>
/// An engine that writes a fixed reply in small pieces, whatever the prompt: the tiny shipped model cannot be made to
/// call a tool or think, and the server's handling of those replies is what the tests check. It keeps the prompts it saw.
/// </summary>
internal sealed class ScriptedEngine(string reply, int pieceLength = 3) : ITextGenerationService
{
    public List<IReadOnlyList<int>> Prompts { get; } = [];
    public int ContextLength => 4096;
    public int Waiting => 0;
    public int Running => 0;

    public IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        if (prompt.Count >= ContextLength) throw new ContextLimitException($"the prompt has {prompt.Count} tokens, the context holds {ContextLength}");
        lock (Prompts) Prompts.Add(prompt);
        return Pieces(cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> Pieces([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < reply.Length; i += pieceLength)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new GenerationChunk(i, reply.Substring(i, Math.Min(pieceLength, reply.Length - i)));
        }
        yield return new GenerationChunk(null, "", FinishReason.Stop);
    }

    public void Dispose()
    {
    }
}
