using GlmSharp.Configs;

namespace GlmSharp.Vision;

/// <summary>
/// Every tensor of the glm4v vision tower with its shape (PyTorch order), under its transformers name and its name in
/// a llama.cpp mmproj GGUF (clip-impl.h's TN_* names, as the converter writes them). One table serves both, so the
/// rename between the two formats lives in one place.
/// </summary>
public static class Glm4vVisionTensors
{
    /// <summary>transformers' module path of the tower in Glm4vForConditionalGeneration.</summary>
    public const string HfPrefix = "model.visual.";

    /// <summary>The Conv3d patch kernel; mmproj stores its two temporal slices as separate 2-D kernels.</summary>
    public const string HfPatchKernel = "patch_embed.proj.weight";

    public sealed record Entry(string HfName, string GgufName, long[] Shape);

    public static IReadOnlyList<Entry> Table(Glm4vVisionConfig v)
    {
        long hidden = v.HiddenSize, output = v.OutHiddenSize, merge = v.SpatialMergeSize;
        long positions = (long)v.PositionGridSide * v.PositionGridSide;
        var table = new List<Entry>
        {
            new(HfPatchKernel, "v.patch_embd.weight", [hidden, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize]),
            new("patch_embed.proj.bias", "v.patch_embd.bias", [hidden]),
            new("post_conv_layernorm.weight", "v.norm_embd.weight", [hidden]),
            new("embeddings.position_embedding.weight", "v.position_embd.weight", [positions, hidden]),
        };
        for (int i = 0; i < v.Depth; i++)
        {
            string hf = $"blocks.{i}.", gguf = $"v.blk.{i}.";
            table.Add(new(hf + "norm1.weight", gguf + "ln1.weight", [hidden]));
            table.Add(new(hf + "attn.qkv.weight", gguf + "attn_qkv.weight", [3 * hidden, hidden]));
            if (v.AttentionBias) table.Add(new(hf + "attn.qkv.bias", gguf + "attn_qkv.bias", [3 * hidden]));
            table.Add(new(hf + "attn.proj.weight", gguf + "attn_out.weight", [hidden, hidden]));
            table.Add(new(hf + "norm2.weight", gguf + "ln2.weight", [hidden]));
            // The blocks' SwiGLU is out_hidden_size wide (not intermediate_size, which is the merger's).
            table.Add(new(hf + "mlp.gate_proj.weight", gguf + "ffn_gate.weight", [output, hidden]));
            table.Add(new(hf + "mlp.up_proj.weight", gguf + "ffn_up.weight", [output, hidden]));
            table.Add(new(hf + "mlp.down_proj.weight", gguf + "ffn_down.weight", [hidden, output]));
        }
        table.Add(new("post_layernorm.weight", "v.post_ln.weight", [hidden]));
        table.Add(new("downsample.weight", "mm.patch_merger.weight", [output, hidden, merge, merge]));
        table.Add(new("downsample.bias", "mm.patch_merger.bias", [output]));
        table.Add(new("merger.proj.weight", "mm.model.fc.weight", [output, output]));
        table.Add(new("merger.post_projection_norm.weight", "mm.post_norm.weight", [output]));
        table.Add(new("merger.post_projection_norm.bias", "mm.post_norm.bias", [output]));
        table.Add(new("merger.gate_proj.weight", "mm.gate.weight", [v.IntermediateSize, output]));
        table.Add(new("merger.up_proj.weight", "mm.up.weight", [v.IntermediateSize, output]));
        table.Add(new("merger.down_proj.weight", "mm.down.weight", [output, v.IntermediateSize]));
        return table;
    }

    public static IReadOnlyList<(string Name, long[] Shape)> HuggingFace(Glm4vVisionConfig v) =>
        [.. Table(v).Select(e => (HfPrefix + e.HfName, e.Shape))];

    public static IReadOnlyList<(string Name, long[] Shape)> Mmproj(Glm4vVisionConfig v)
    {
        var list = new List<(string, long[])>();
        foreach (var e in Table(v))
        {
            if (e.HfName != HfPatchKernel)
            {
                list.Add((e.GgufName, e.Shape));
                continue;
            }
            // Temporal slice 0 keeps the plain name (clip's backward compatibility), slice 1 gets ".1".
            long[] slice = [e.Shape[0], e.Shape[1], e.Shape[3], e.Shape[4]];
            list.Add((e.GgufName, slice));
            list.Add((e.GgufName + ".1", slice));
        }
        return list;
    }
}
