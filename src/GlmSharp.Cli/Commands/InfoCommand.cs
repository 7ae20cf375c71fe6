using System.CommandLine;
using System.Globalization;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var command = new Command("info", "Architecture, parameter count, dtypes, context and tokenizer of a model") { model };
        command.SetAction(parse =>
        {
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var c = loaded.Config;
            var weights = loaded.Model.Weights;
            var views = weights.Names.Select(name =>
            {
                weights.TryGet(name, out var tensor);
                return tensor;
            }).ToArray();
            long parameters = views.Sum(tensor => tensor.ElementCount);
            // A fused q/k/v (attn_qkv) is handed out as three views under the stored tensor's name; count what is stored.
            var types = views.DistinctBy(tensor => tensor.Name).GroupBy(tensor => tensor.Type.ToString())
                .OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => $"{group.Key}×{group.Count()}");
            bool fusedQkv = weights.TryGet("model.layers.0.self_attn.q_proj.weight", out var query)
                && weights.TryGet("model.layers.0.self_attn.k_proj.weight", out var key) && query.Name == key.Name;
            Row("model", loaded.Path);
            Row("architecture", $"{c.ModelType} (llama.cpp: {loaded.Architecture.GgufArchitecture})");
            Row("parameters", $"{parameters:N0} ({parameters / 1e9:F2} B)");
            Row("tensor types", string.Join(", ", types));
            Row("layers", $"{c.NumLayers}, hidden {c.HiddenSize}, ffn {c.IntermediateSize}");
            if (c is Configs.IMoeConfig { Moe: var moe })
            {
                // Each routed expert is three [width, hidden] matrices; a row reads only k of them per MoE layer.
                long idle = (long)(c.NumLayers - moe.FirstDenseLayers) * 3 * moe.ExpertIntermediateSize * c.HiddenSize * (moe.RoutedExperts - moe.ExpertsPerToken);
                Row("experts", $"{moe.RoutedExperts} routed (top {moe.ExpertsPerToken}, width {moe.ExpertIntermediateSize}) + {moe.SharedExperts} shared " +
                    $"from layer {moe.FirstDenseLayers}; {(parameters - idle) / 1e9:F2} B parameters active per token");
            }
            if (c is Configs.INextNConfig { NextNLayers: > 0 and var nextN })
                Row("mtp", $"{nextN} multi-token-prediction layer{(nextN == 1 ? "" : "s")} after the main stack; layer {c.NumLayers} drafts with --mtp");
            Row("attention", $"{c.NumHeads} heads, {c.NumKvHeads} kv heads, head dim {c.HeadDim}, q/k/v bias: {(c.AttentionBias ? "yes" : "no")}{(fusedQkv ? ", q/k/v fused in one tensor" : "")}");
            Row("rope", $"{c.RotaryDims} of {c.HeadDim} dims rotate, theta {c.RopeTheta:G}"
                + (c.MropeSections is { } sections ? $", M-RoPE sections [{string.Join(",", sections)}] (t, h, w, spare)" : ""));
            Row("norm eps", c.RmsNormEps.ToString("G"));
            Row("context", $"{c.MaxPositions} tokens");
            Row("kv cache", "per token " + string.Join(", ", Enum.GetValues<KvCacheType>().Select(type => CachePerToken(c, type))));
            Row("embeddings", c.TieWordEmbeddings ? "tied (LM head = token embedding)" : "separate LM head");
            Row("tokenizer", loaded.Tokenizer is { } t
                ? $"byte-level BPE, {t.VocabSize} tokens, pre-tokenizer {t.Vocabulary.PreTokenizer}, chat template {loaded.ChatTemplate.Style}"
                : "none (token ids only)");
            Row("stop ids", string.Join(",", loaded.StopTokenIds));
            return 0;
        });
        return command;

        static void Row(string key, string value) => Console.WriteLine($"{key,-14} {value}");

        static string CachePerToken(Configs.ModelConfig c, KvCacheType type) =>
            type == KvCacheType.Q8_0 && c.HeadDim % Tensors.Q8_0.BlockSize != 0
                ? $"{type.Name()} n/a (head dim not a multiple of {Tensors.Q8_0.BlockSize})"
                : string.Create(CultureInfo.InvariantCulture, $"{type.Name()} {2L * c.NumLayers * c.NumKvHeads * type.RowBytes(c.HeadDim) / 1024.0:0.##} KiB");
    }
}
