using System.Text;

namespace GlmSharp.Serving;

/// <summary>What one piece of streamed output adds: reasoning text, answer text, and tool calls completed by it.</summary>
public sealed record OutputDelta(string Reasoning, string Content, IReadOnlyList<ParsedToolCall> ToolCalls)
{
    public bool IsEmpty => Reasoning.Length == 0 && Content.Length == 0 && ToolCalls.Count == 0;
}

/// <summary>
/// Splits a GLM-4.5+ reply into reasoning (<c>&lt;think&gt;…&lt;/think&gt;</c>), answer, and XML tool calls, as text
/// arrives in pieces of any size. Each piece is parsed again with all the text before it, and only what no later text
/// can change is given out, so the pieces together are the same whatever the chunking: text that may be the start of a
/// tag is held back, a tool call comes out whole when it closes, and whitespace at the edges of the answer and of the
/// reasoning waits until it is known to be inside them. <c>&lt;|begin_of_box|&gt;</c> markers are dropped.
/// <para>
/// When the chat template opened <c>&lt;think&gt;</c> in the prompt, the reply starts in reasoning. A model that skips
/// thinking there may end its turn without ever closing it: its text is then the answer (tool calls included), not
/// reasoning — in a stream it comes again as content in the last delta, so the answer is never lost in reasoning. A
/// reply cut off by the token limit keeps unclosed thinking as reasoning.
/// </para>
/// </summary>
public sealed class GlmOutputParser(ToolSchemas schemas, bool startsInReasoning = false)
{
    private const string ThinkOpen = "<think>", ThinkClose = "</think>", CallOpen = "<tool_call>", CallClose = "</tool_call>";
    private static readonly string[] Tags = [ThinkOpen, ThinkClose, CallOpen, "<|begin_of_box|>", "<|end_of_box|>"];

    private readonly StringBuilder _text = new();
    private int _reasoningSent, _contentSent, _callsSent;
    private bool _finished;

    /// <summary>Everything given out so far.</summary>
    public ParsedReply Sent { get; private set; } = new("", "", []);

    /// <summary>Adds a piece of the reply; returns what it makes certain.</summary>
    public OutputDelta Append(string piece)
    {
        if (_finished) throw new InvalidOperationException("the reply was already finished");
        _text.Append(piece);
        return Emit(Parse(_text.ToString(), schemas, startsInReasoning, final: false, truncated: false));
    }

    /// <summary>
    /// Adds a chunk of a generation; the closing chunk (with its finish reason) also finishes the reply, as cut off by the
    /// token limit unless the model stopped it.
    /// </summary>
    public OutputDelta Append(Inference.GenerationChunk chunk)
    {
        var delta = Append(chunk.Text);
        if (chunk.Finish is not { } finish) return delta;
        var last = Finish(truncated: finish != Inference.FinishReason.Stop);
        return new OutputDelta(delta.Reasoning + last.Reasoning, delta.Content + last.Content, [.. delta.ToolCalls, .. last.ToolCalls]);
    }

    /// <summary>
    /// The reply ended (<paramref name="truncated"/>: by the token limit, not by the model); returns the rest: held-back
    /// text, an unclosed tool call as text, and the answer of a reply whose opened thinking never closed.
    /// </summary>
    public OutputDelta Finish(bool truncated = false)
    {
        _finished = true;
        var reply = Parse(_text.ToString(), schemas, startsInReasoning, final: true, truncated);
        return Emit(reply with { Reasoning = reply.Reasoning.Length >= _reasoningSent ? reply.Reasoning : Sent.Reasoning });
    }

    /// <summary>The whole reply at once.</summary>
    public static ParsedReply ParseComplete(string text, ToolSchemas schemas, bool startsInReasoning = false, bool truncated = false) =>
        Parse(text, schemas, startsInReasoning, final: true, truncated);

    private OutputDelta Emit(ParsedReply reply)
    {
        var delta = new OutputDelta(reply.Reasoning[Math.Min(_reasoningSent, reply.Reasoning.Length)..],
            reply.Content[Math.Min(_contentSent, reply.Content.Length)..], reply.ToolCalls.Skip(_callsSent).ToArray());
        _reasoningSent = Math.Max(_reasoningSent, reply.Reasoning.Length);
        _contentSent = Math.Max(_contentSent, reply.Content.Length);
        _callsSent = reply.ToolCalls.Count;
        Sent = new ParsedReply(Sent.Reasoning + delta.Reasoning, Sent.Content + delta.Content, [.. Sent.ToolCalls, .. delta.ToolCalls]);
        return delta;
    }

    private static ParsedReply Parse(string text, ToolSchemas schemas, bool startsInReasoning, bool final, bool truncated)
    {
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        var calls = new List<ParsedToolCall>();
        bool inReasoning = startsInReasoning, thinkClosed = false;
        int at = 0;
        while (at < text.Length)
        {
            if (inReasoning)
            {
                int close = text.IndexOf(ThinkClose, at, StringComparison.Ordinal);
                int end = close >= 0 ? close : final ? text.Length : HeldBack(text, at);
                AppendSection(reasoning, text[at..end]);
                if (close < 0)
                {
                    at = end;
                    break;
                }
                TrimEnd(reasoning);
                inReasoning = false;
                thinkClosed = true;
                at = close + ThinkClose.Length;
                continue;
            }
            var (tag, index) = NextTag(text, at);
            int textEnd = tag is null ? (final ? text.Length : HeldBack(text, at)) : index;
            AppendSection(content, text[at..textEnd]);
            if (tag is null)
            {
                at = textEnd;
                break;
            }
            at = index + tag.Length;
            if (tag == ThinkOpen)
            {
                inReasoning = true;
                if (reasoning.Length > 0) reasoning.Append('\n');
            }
            else if (tag == CallOpen)
            {
                int close = text.IndexOf(CallClose, at, StringComparison.Ordinal);
                if (close < 0)
                {
                    if (final) AppendSection(content, text[index..]);
                    at = text.Length;
                    break;
                }
                if (GlmToolCall.Parse(text[at..close], schemas) is { } call)
                {
                    TrimEnd(content);
                    calls.Add(call);
                }
                else AppendSection(content, text[index..(close + CallClose.Length)]);
                at = close + CallClose.Length;
            }
        }
        if (final && startsInReasoning && !thinkClosed && !truncated)
            return Parse(text, schemas, startsInReasoning: false, final, truncated);
        TrimEnd(reasoning);
        TrimEnd(content);
        return new ParsedReply(reasoning.ToString(), content.ToString(), calls);
    }

    /// <summary>Text is added to a section without the whitespace that opens it.</summary>
    private static void AppendSection(StringBuilder section, string text) =>
        section.Append(section.Length == 0 ? text.TrimStart() : text);

    private static void TrimEnd(StringBuilder section)
    {
        int end = section.Length;
        while (end > 0 && char.IsWhiteSpace(section[end - 1])) end--;
        section.Length = end;
    }

    private static (string? Tag, int Index) NextTag(string text, int from)
    {
        string? found = null;
        int best = int.MaxValue;
        foreach (string tag in Tags)
        {
            int index = text.IndexOf(tag, from, StringComparison.Ordinal);
            if (index >= 0 && index < best)
            {
                best = index;
                found = tag;
            }
        }
        return (found, best);
    }

    /// <summary>Where the text that may still become a tag starts: a '&lt;' near the end that begins some tag's prefix.</summary>
    private static int HeldBack(string text, int from)
    {
        int longest = Tags.Max(t => t.Length);
        for (int start = Math.Max(from, text.Length - longest + 1); start < text.Length; start++)
        {
            if (text[start] != '<') continue;
            var tail = text.AsSpan(start);
            foreach (string tag in Tags)
                if (tag.AsSpan().StartsWith(tail, StringComparison.Ordinal)) return start;
        }
        return text.Length;
    }
}

/// <summary>A reply split into reasoning, answer and tool calls.</summary>
public sealed record ParsedReply(string Reasoning, string Content, IReadOnlyList<ParsedToolCall> ToolCalls);
