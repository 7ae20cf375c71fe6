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
        };
        if (!v.GlmOcrLayout)
        {
            table.Add(new("post_conv_layernorm.weight", "v.norm_embd.weight", [hidden]));
            table.Add(new("embeddings.position_embedding.weight", "v.position_embd.weight", [positions, hidden]));
        }
        long mlp = v.BlockMlpWidth, merger = v.MergerWidth, headDim = v.HeadDim;
        for (int i = 0; i < v.Depth; i++)
        {
            string hf = $"blocks.{i}.", gguf = $"v.blk.{i}.";
            table.Add(new(hf + "norm1.weight", gguf + "ln1.weight", [hidden]));
            table.Add(new(hf + "attn.qkv.weight", gguf + "attn_qkv.weight", [3 * hidden, hidden]));
            if (v.AttentionBias) table.Add(new(hf + "attn.qkv.bias", gguf + "attn_qkv.bias", [3 * hidden]));
            table.Add(new(hf + "attn.proj.weight", gguf + "attn_out.weight", [hidden, hidden]));
            if (v.BlockBiases) table.Add(new(hf + "attn.proj.bias", gguf + "attn_out.bias", [hidden]));
            if (v.GlmOcrLayout)
            {
                table.Add(new(hf + "attn.q_norm.weight", gguf + "attn_q_norm.weight", [headDim]));
                table.Add(new(hf + "attn.k_norm.weight", gguf + "attn_k_norm.weight", [headDim]));
            }
            table.Add(new(hf + "norm2.weight", gguf + "ln2.weight", [hidden]));
            // GLM-4.1V's block SwiGLU is out_hidden_size wide (intermediate_size is its merger's); GLM-OCR's the reverse.
            foreach (string part in new[] { "gate", "up" })
            {
                table.Add(new(hf + $"mlp.{part}_proj.weight", gguf + $"ffn_{part}.weight", [mlp, hidden]));
                if (v.BlockBiases) table.Add(new(hf + $"mlp.{part}_proj.bias", gguf + $"ffn_{part}.bias", [mlp]));
            }
            table.Add(new(hf + "mlp.down_proj.weight", gguf + "ffn_down.weight", [hidden, mlp]));
            if (v.BlockBiases) table.Add(new(hf + "mlp.down_proj.bias", gguf + "ffn_down.bias", [hidden]));
        }
        table.Add(new("post_layernorm.weight", "v.post_ln.weight", [hidden]));
        table.Add(new("downsample.weight", "mm.patch_merger.weight", [output, hidden, merge, merge]));
        table.Add(new("downsample.bias", "mm.patch_merger.bias", [output]));
        table.Add(new("merger.proj.weight", "mm.model.fc.weight", [output, output]));
        table.Add(new("merger.post_projection_norm.weight", "mm.post_norm.weight", [output]));
        table.Add(new("merger.post_projection_norm.bias", "mm.post_norm.bias", [output]));
        table.Add(new("merger.gate_proj.weight", "mm.gate.weight", [merger, output]));
        table.Add(new("merger.up_proj.weight", "mm.up.weight", [merger, output]));
        table.Add(new("merger.down_proj.weight", "mm.down.weight", [output, merger]));
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
