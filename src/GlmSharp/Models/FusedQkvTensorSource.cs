using System.Text.RegularExpressions;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// Serves each layer's fused q/k/v projection (<see cref="GlmTensorNames.FusedQkv"/>: llama.cpp's <c>attn_qkv</c>,
/// THUDM's chatglm <c>query_key_value</c>) as the three projections the attention block loads. The fused weight is
/// [q + k + v, hidden], q = heads·head_dim rows, then k and v = kv_heads·head_dim rows each (the offsets at which
/// llama.cpp's build_qkv views them); its bias, when present, is laid out the same way. Each projection is a view of
/// its rows in the mapped file, never a copy. A layer holds either the fused or the separate tensors: where llama.cpp
/// finds attn_qkv it reads no attn_q/k/v, and it refuses a file with tensors it did not read.
/// </summary>
public sealed partial class FusedQkvTensorSource : DerivedTensorSource
{
    public FusedQkvTensorSource(ITensorSource inner, ModelConfig config) : base(inner)
    {
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        var fusedLayers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in inner.Names)
        {
            var match = FusedName().Match(name);
            if (!match.Success) continue;
            Replace(name);
            inner.TryGet(name, out var fused);
            string layer = match.Groups["layer"].Value, kind = match.Groups["kind"].Value;
            if (kind == "weight" || !fusedLayers.ContainsKey(layer)) fusedLayers[layer] = fused.Name;
            long[] expected = kind == "weight" ? [q + 2 * kv, config.HiddenSize] : [q + 2 * kv];
            if (!fused.Shape.AsSpan().SequenceEqual(expected))
                throw new ModelFormatException(
                    $"{inner.Origin}: tensor '{fused.Name}' has shape {fused.ShapeText}, expected [{string.Join(",", expected)}] " +
                    $"(q, k, v rows {q} + {kv} + {kv} from {config.NumHeads} heads, {config.NumKvHeads} kv heads of {config.HeadDim})");
            Derive($"{layer}self_attn.q_proj.{kind}", fused.Rows(0, q));
            Derive($"{layer}self_attn.k_proj.{kind}", fused.Rows(q, kv));
            Derive($"{layer}self_attn.v_proj.{kind}", fused.Rows(q + kv, kv));
        }

        foreach (var name in inner.Names)
        {
            var match = SeparateName().Match(name);
            if (match.Success && fusedLayers.TryGetValue(match.Groups["layer"].Value, out var fusedName))
            {
                inner.TryGet(name, out var separate);
                throw new ModelFormatException(
                    $"{inner.Origin}: a layer has both the fused tensor '{fusedName}' and '{separate.Name}'; it takes either a fused q/k/v or separate ones");
            }
        }
    }

    [GeneratedRegex(@"^(?<layer>model\.layers\.\d+\.)self_attn\.query_key_value\.(?<kind>weight|bias)$")]
    private static partial Regex FusedName();

    [GeneratedRegex(@"^(?<layer>model\.layers\.\d+\.)self_attn\.[qkv]_proj\.(weight|bias)$")]
    private static partial Regex SeparateName();
}
