using GlmSharp.Configs;
using GlmSharp.Errors;

namespace GlmSharp.Models;

/// <summary>
/// llama.cpp's multi-head latent attention keys (deepseek2, glm-dsa), read into and written from an <see cref="MlaShape"/>.
/// GGUF files come in two layouts: the current converter's per-head <c>attn_k_b</c> / <c>attn_v_b</c>, whose
/// key_length / value_length describe the cached latent (one head of kv_lora_rank + rope, the latent part also the value)
/// and whose true head sizes are the <c>_mla</c> keys; and the older fused <c>attn_kv_b</c>, whose key_length /
/// value_length are the heads' own.
/// </summary>
public static class MlaGgufKeys
{
    public static MlaShape Read(GgufModelMetadata gguf)
    {
        string a = gguf.Architecture, origin = gguf.Origin;
        int rope = gguf.Int("rope.dimension_count"), kvLora = gguf.Int("attention.kv_lora_rank");
        int keyLength = gguf.Int("attention.key_length"), valueLength = gguf.Int("attention.value_length");
        int qkHead, valueHead;
        if (gguf.OptInt("attention.key_length_mla") is int keyLengthMla)
        {
            if (keyLength != kvLora + rope || valueLength != kvLora)
                throw new ModelFormatException($"{origin}: {a}.attention.key_length {keyLength} and value_length {valueLength} must be " +
                    $"kv_lora_rank + rope ({kvLora + rope}) and kv_lora_rank ({kvLora}) when key_length_mla is set");
            RequireTensor(gguf, "blk.0.attn_k_b.weight", $"{a}.attention.key_length_mla says the split attn_k_b / attn_v_b layout");
            qkHead = keyLengthMla;
            valueHead = gguf.Int("attention.value_length_mla");
        }
        else
        {
            RequireTensor(gguf, "blk.0.attn_kv_b.weight", $"without {a}.attention.key_length_mla the file has the fused attn_kv_b layout");
            qkHead = keyLength;
            valueHead = valueLength;
        }
        bool queryLora = gguf.HasTensor("blk.0.attn_q_a.weight");
        if (!queryLora) RequireTensor(gguf, "blk.0.attn_q.weight", "a layer takes its queries from attn_q_a / attn_q_b or from attn_q");
        return new MlaShape
        {
            QLoraRank = queryLora ? gguf.Int("attention.q_lora_rank") : null,
            KvLoraRank = kvLora,
            QkNopeHeadDim = qkHead - rope,
            QkRopeHeadDim = rope,
            VHeadDim = valueHead,
        };
    }

    /// <summary>The split layout's keys: the converter writes head_count_kv 1, MLA as one shared latent head.</summary>
    public static void Write(Dictionary<string, object> keys, string architecture, MlaShape s)
    {
        string a = architecture;
        keys[$"{a}.attention.head_count_kv"] = 1u;
        keys[$"{a}.attention.key_length"] = (uint)(s.KvLoraRank + s.QkRopeHeadDim);
        keys[$"{a}.attention.value_length"] = (uint)s.KvLoraRank;
        keys[$"{a}.attention.key_length_mla"] = (uint)s.QkHeadDim;
        keys[$"{a}.attention.value_length_mla"] = (uint)s.VHeadDim;
        keys[$"{a}.attention.kv_lora_rank"] = (uint)s.KvLoraRank;
        if (s.QLoraRank is int qLora) keys[$"{a}.attention.q_lora_rank"] = (uint)qLora;
        keys[$"{a}.rope.dimension_count"] = (uint)s.QkRopeHeadDim;
    }

    private static void RequireTensor(GgufModelMetadata gguf, string name, string why)
    {
        if (!gguf.HasTensor(name)) throw new ModelFormatException($"{gguf.Origin}: tensor '{name}' is missing ({why})");
    }
}
