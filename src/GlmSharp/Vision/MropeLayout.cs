namespace GlmSharp.Vision;

/// <summary>
/// Builds M-RoPE positions run by run. A text token takes (p, p, p) with p the next free position; a grid of
/// t × rows × cols merged tokens starting at p puts token (k, r, c) at (p + k, p + r, p + c), and the next free position
/// becomes p + max(t, rows, cols). Both references lay images out this way: transformers' get_rope_index (next run at
/// largest position + 1) and llama.cpp mtmd (image token i at (p0, p0 + i / nx, p0 + i % nx), n_past advanced by max(nx, ny)).
/// </summary>
public sealed class MropeLayout(int capacity = 0)
{
    private readonly List<int> _t = new(capacity), _h = new(capacity), _w = new(capacity);
    private int _next;

    public int NextPosition => _next;

    public MropeLayout AddText(int count)
    {
        for (int k = 0; k < count; k++) Add(_next + k, _next + k, _next + k);
        _next += count;
        return this;
    }

    /// <summary>Adds one image (or video frame) of merged tokens in row-major order; <paramref name="tokens"/> must match the grid.</summary>
    public MropeLayout AddGrid(int t, int rows, int cols, int tokens, string what)
    {
        if (t < 1 || rows < 1 || cols < 1 || tokens != t * rows * cols)
            throw new ImageInputException($"prompt: {what} has {tokens} placeholder tokens, its merged grid {t}×{rows}×{cols} needs {t * rows * cols}");
        for (int k = 0; k < t; k++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) Add(_next + k, _next + r, _next + c);
        _next += Math.Max(t, Math.Max(rows, cols));
        return this;
    }

    public MropeLayout AddImage(int cols, int rows) => AddGrid(1, rows, cols, rows * cols, $"image {cols}×{rows}");

    public MropePositionIds Build() => new([.. _t], [.. _h], [.. _w]);

    private void Add(int t, int h, int w)
    {
        _t.Add(t);
        _h.Add(h);
        _w.Add(w);
    }
}
