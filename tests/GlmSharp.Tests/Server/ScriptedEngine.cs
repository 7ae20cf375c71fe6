using System.Runtime.CompilerServices;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Serving;

namespace GlmSharp.Tests.Server;

/// <summary>
/// An engine that writes fixed replies in small pieces, whatever the prompt (request i gets reply i, the last one
/// after that): the tiny shipped model cannot be made to call a tool or think, and the server's handling of those
/// replies is what the tests check. It keeps the prompts it saw.
/// </summary>
internal sealed class ScriptedEngine(params string[] replies) : ITextGenerationService
{
    private const int PieceLength = 3;

    public List<IReadOnlyList<int>> Prompts { get; } = [];

    /// <summary>A pause before each piece, for replies that must still be streaming when the test acts.</summary>
    public TimeSpan Delay { get; init; }
    public int ContextLength => 4096;
    public int Waiting { get; init; }
    public int Running => 0;
    public KvBlockPoolUse CacheUse => default;

    public IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        if (prompt.Count >= ContextLength) throw new ContextLimitException($"the prompt has {prompt.Count} tokens, the context holds {ContextLength}");
        string reply;
        lock (Prompts)
        {
            reply = replies[Math.Min(Prompts.Count, replies.Length - 1)];
            Prompts.Add(prompt);
        }
        return Pieces(reply, cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> Pieces(string reply, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < reply.Length; i += PieceLength)
        {
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
            else await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new GenerationChunk(i, reply.Substring(i, Math.Min(PieceLength, reply.Length - i)));
        }
        yield return new GenerationChunk(null, "", FinishReason.Stop);
    }

    public void Dispose()
    {
    }
}
