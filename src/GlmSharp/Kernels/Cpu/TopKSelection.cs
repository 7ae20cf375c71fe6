namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The k best of n scores without sorting all n: quickselect (Hoare's FIND) moves the k highest to the front in O(n)
/// on average, and only those k are then sorted, by position. Ties go to the earlier position, so the choice is the
/// same on every run and every thread count.
/// </summary>
internal static class TopKSelection
{
    /// <summary>Writes the positions of the <paramref name="chosen"/>.Length highest scores to it, ascending; <paramref name="order"/> is working memory of scores.Length.</summary>
    public static void Select(ReadOnlySpan<float> scores, Span<int> order, Span<int> chosen)
    {
        int n = scores.Length, k = chosen.Length;
        if (k > n || order.Length < n) throw new ArgumentException($"top-k: choosing {k} of {n} scores with working memory for {order.Length}");
        for (int i = 0; i < n; i++) order[i] = i;
        int low = 0, high = n - 1;
        while (low < high)
        {
            int split = Partition(scores, order, low, high);
            if (split == k - 1) break;
            if (split < k - 1) low = split + 1;
            else high = split - 1;
        }
        order[..k].CopyTo(chosen);
        chosen.Sort();
    }

    /// <summary>Lomuto partition around the median of three: better-than entries before the returned index, the pivot at it.</summary>
    private static int Partition(ReadOnlySpan<float> scores, Span<int> order, int low, int high)
    {
        int middle = low + (high - low) / 2;
        if (Better(scores, order[middle], order[low])) Swap(order, middle, low);
        if (Better(scores, order[high], order[low])) Swap(order, high, low);
        if (Better(scores, order[middle], order[high])) Swap(order, middle, high);
        int pivot = order[high], store = low;
        for (int i = low; i < high; i++)
            if (Better(scores, order[i], pivot)) Swap(order, i, store++);
        Swap(order, store, high);
        return store;
    }

    private static bool Better(ReadOnlySpan<float> scores, int a, int b) => scores[a] > scores[b] || (scores[a] == scores[b] && a < b);

    private static void Swap(Span<int> order, int a, int b) => (order[a], order[b]) = (order[b], order[a]);
}
