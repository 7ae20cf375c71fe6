using System.Text.RegularExpressions;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// Serves each layer's <c>kv_b_proj</c> (Hugging Face's layout, and llama.cpp's legacy <c>attn_kv_b</c>) as the two
/// per-head stacks <see cref="Blocks.MlaAttention"/> loads, as llama.cpp's converter splits it for the absorbed form:
/// kv_b_proj is [heads · (nope + v), kv_lora_rank], each head's nope rows then its v rows;
/// <c>k_b_proj</c> = [heads, kv_lora_rank, nope] (each head's nope rows transposed, decoded to F32) and
/// <c>v_b_proj</c> = [heads, v, kv_lora_rank] (each head's v rows, bytes as stored). Both are copies made once at load.
/// </summary>
public sealed partial class MlaKvSplitTensorSource : DerivedTensorSource
{
    public MlaKvSplitTensorSource(ITensorSource inner, ModelConfig config) : base(inner)
    {
        var s = ((IMlaConfig)config).Mla;
        int heads = config.NumHeads;
        foreach (var name in inner.Names)
        {
            var match = FusedName().Match(name);
            if (!match.Success) continue;
            inner.TryGet(name, out var fused);
            long[] expected = [(long)heads * (s.QkNopeHeadDim + s.VHeadDim), s.KvLoraRank];
            if (!fused.Shape.AsSpan().SequenceEqual(expected))
                throw new ModelFormatException(
                    $"{inner.Origin}: tensor '{fused.Name}' has shape {fused.ShapeText}, expected [{string.Join(",", expected)}] " +
                    $"({heads} heads of {s.QkNopeHeadDim} key + {s.VHeadDim} value rows over kv_lora_rank {s.KvLoraRank})");
            string layer = match.Groups["layer"].Value;
            foreach (var part in (string[])["k_b_proj", "v_b_proj"])
                if (inner.TryGet($"{layer}self_attn.{part}.weight", out var separate))
                    throw new ModelFormatException($"{inner.Origin}: a layer has both '{fused.Name}' and '{separate.Name}'; it takes either kv_b or k_b and v_b");
            Replace(name);
            Derive($"{layer}self_attn.k_b_proj.weight", KeyHeads(fused, heads, s));
            Derive($"{layer}self_attn.v_b_proj.weight", ValueHeads(fused, heads, s));
        }
    }

    private static unsafe TensorView KeyHeads(TensorView fused, int heads, MlaShape s)
    {
        int nope = s.QkNopeHeadDim, rank = s.KvLoraRank, stride = s.QkNopeHeadDim + s.VHeadDim;
        var memory = new AlignedNativeMemory((long)heads * rank * nope * sizeof(float));
        var transposed = new Span<float>(memory.Pointer, heads * rank * nope);
        var row = new float[rank];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < nope; i++)
            {
                TensorRows.Decode(fused, (long)h * stride + i, row);
                for (int j = 0; j < rank; j++) transposed[(h * rank + j) * nope + i] = row[j];
            }
        return new TensorView(fused.Name + " (k_b)", GgmlType.F32, [heads, rank, nope], memory.Pointer, memory.Length, fused.Origin) { Storage = memory };
    }

    /// <summary>Whole stored rows are copied, so any block type stays as it is; block-scaled FP8 rows are decoded.</summary>
    private static unsafe TensorView ValueHeads(TensorView fused, int heads, MlaShape s)
    {
        int v = s.VHeadDim, rank = s.KvLoraRank, stride = s.QkNopeHeadDim + s.VHeadDim;
        var type = fused.Scales is null ? fused.Type : GgmlType.F32;
        long rowBytes = GgmlTypeInfo.RowByteSize(type, rank), storedRowBytes = GgmlTypeInfo.RowByteSize(fused.Type, rank);
        var memory = new AlignedNativeMemory(heads * v * rowBytes);
        var row = new float[rank];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < v; i++)
            {
                long source = (long)h * stride + s.QkNopeHeadDim + i;
                byte* destination = memory.Pointer + ((long)h * v + i) * rowBytes;
                if (fused.Scales is null) Buffer.MemoryCopy(fused.Data + source * storedRowBytes, destination, rowBytes, rowBytes);
                else
                {
                    TensorRows.Decode(fused, source, row);
                    row.CopyTo(new Span<float>(destination, rank));
                }
            }
        return new TensorView(fused.Name + " (v_b)", type, [heads, v, rank], memory.Pointer, memory.Length, fused.Origin) { Storage = memory };
    }

    [GeneratedRegex(@"^(?<layer>model\.layers\.\d+\.)self_attn\.kv_b_proj\.weight$")]
    private static partial Regex FusedName();
}
