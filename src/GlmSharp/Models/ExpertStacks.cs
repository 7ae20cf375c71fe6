using System.Globalization;
using System.Text.RegularExpressions;

namespace GlmSharp.Models;

/// <summary>
/// Hugging Face checkpoints store a MoE layer's experts one tensor per expert and projection
/// (<c>model.layers.N.mlp.experts.{e}.gate_proj.weight</c>); llama.cpp stores each projection of a layer as one merged
/// [experts, out, in] tensor. This groups the per-expert names of a tensor list into those stacks, expert e at index e,
/// under the name the merged tensor has in the Hugging Face namespace (<c>model.layers.N.mlp.experts.gate_proj.weight</c>).
/// </summary>
public static partial class ExpertStacks
{
    /// <summary>Each entry once: a merged stack (its parts in expert order) or a tensor of its own (one part, itself).</summary>
    public static IReadOnlyList<(string Name, long[] Shape, string[] Parts)> Group(IEnumerable<(string Name, long[] Shape)> tensors, string origin)
    {
        var stacks = new Dictionary<string, SortedDictionary<int, (string Name, long[] Shape)>>(StringComparer.Ordinal);
        var entries = new List<(string Name, long[] Shape, string[] Parts)>();
        foreach (var (name, shape) in tensors)
        {
            var expert = PerExpertName().Match(name);
            if (!expert.Success)
            {
                entries.Add((name, shape, [name]));
                continue;
            }
            string stacked = $"{expert.Groups["layer"].Value}.{expert.Groups["projection"].Value}.weight";
            if (!stacks.TryGetValue(stacked, out var parts)) stacks[stacked] = parts = [];
            parts[int.Parse(expert.Groups["expert"].Value, CultureInfo.InvariantCulture)] = (name, shape);
        }
        foreach (var (stacked, parts) in stacks)
        {
            var ordered = parts.Values.ToArray();
            if (parts.Keys.Last() != ordered.Length - 1 || ordered.Any(p => !p.Shape.AsSpan().SequenceEqual(ordered[0].Shape)))
                throw new Errors.ModelFormatException($"{origin}: the experts of '{stacked}' are not numbered 0..{ordered.Length - 1} with one shape");
            entries.Add((stacked, [ordered.Length, .. ordered[0].Shape], [.. ordered.Select(p => p.Name)]));
        }
        return entries;
    }

    [GeneratedRegex(@"^(?<layer>model\.layers\.\d+\.mlp\.experts)\.(?<expert>\d+)\.(?<projection>gate_proj|up_proj|down_proj)\.weight$")]
    private static partial Regex PerExpertName();
}
