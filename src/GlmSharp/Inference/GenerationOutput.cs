using GlmSharp.Tokenizers;

namespace GlmSharp.Inference;

/// <summary>
/// The text side of a generation, shared by the plain and the speculative generator: which tokens end it, the
/// incremental detokenizer and the stop-string filter, turning each kept token into a chunk.
/// </summary>
internal sealed class GenerationOutput(BpeTokenizer tokenizer, GenerationOptions options, IReadOnlyList<int> defaultStopIds)
{
    private readonly IReadOnlyList<int> _stopIds = options.StopTokenIds ?? defaultStopIds;
    private readonly IncrementalDetokenizer _detokenizer = new(tokenizer, includeSpecial: options.IncludeSpecialTokens);
    private readonly StopStringFilter _stops = new(options.StopStrings);

    public bool IsStopToken(int id) => _stopIds.Contains(id);

    /// <summary>Whether a stop string has appeared in the text.</summary>
    public bool Stopped => _stops.Stopped;

    public GenerationChunk Token(int id) => new(id, _stops.Push(_detokenizer.Append(id)));

    public GenerationChunk Finish(FinishReason reason) =>
        new(null, _stops.Stopped ? "" : _stops.Push(_detokenizer.Flush()) + _stops.Flush(), _stops.Stopped ? FinishReason.Stop : reason);
}
