namespace GlmSharp.Inference;

/// <summary>
/// Holds back streamed text that might be the start of a stop string, so a stop string is never shown,
/// while everything that cannot be part of one is released at once.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stopStrings)
{
    private string _pending = "";

    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what can be shown now. After a stop string is seen, returns the text before it and nothing more.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        _pending += text;
        int cut = FirstStop(_pending);
        if (cut >= 0)
        {
            Stopped = true;
            string before = _pending[..cut];
            _pending = "";
            return before;
        }
        int keep = LongestSuffixThatStartsAStop(_pending);
        string release = _pending[..^keep];
        _pending = _pending[^keep..];
        return release;
    }

    /// <summary>At the end of generation, the held-back text was not a stop string after all.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    private int FirstStop(string text)
    {
        int first = -1;
        foreach (var stop in stopStrings)
        {
            if (stop.Length == 0) continue;
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        return first;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        int longest = 0;
        foreach (var stop in stopStrings)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > longest; n--)
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    longest = n;
                    break;
                }
        return longest;
    }
}
