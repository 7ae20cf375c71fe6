namespace GlmSharp.Tests.Support;

/// <summary>
/// What random checkpoints of every MTP architecture (glm4_moe, glm4_moe_lite, glm_moe_dsa) do alike with their
/// multi-token-prediction layer <c>model.layers.{L}</c>, L = num_hidden_layers: its own parts drawn at random, made into a
/// drafter that agrees with the model, or turned into a one-layer model of its own for llama.cpp to run.
/// </summary>
internal static class NextNTensors
{
    private const double RmsNormEps = 1e-5;

    /// <summary>The layer's own parts: the norms of its two inputs, their projection, the head's norm and an LM head.</summary>
    public static void AddParts(RandomTensors random, int layer, int vocab, int hidden)
    {
        string p = $"model.layers.{layer}.";
        random.Norm(p + "enorm.weight", hidden);
        random.Norm(p + "hnorm.weight", hidden);
        random.Matrix(p + "eh_proj.weight", hidden, 2 * hidden, 0.25f);
        random.Norm(p + "shared_head.norm.weight", hidden);
        random.Matrix(p + "shared_head.head.weight", vocab, hidden, 0.25f);
    }

    /// <summary>
    /// Makes the layer a decent drafter, as training would: every block writes its sub-layer outputs (o_proj, down_proj) at
    /// <paramref name="blockScale"/> of their random size, so a position's final hidden state is mostly its token's
    /// embedding; the layer's input projection passes the embedding half through and its head is the model's. Its
    /// prediction from token t_{p+1} then often, but not always, matches the model's own at position p + 1.
    /// </summary>
    public static void MakeAgree(Dictionary<string, (long[] Shape, float[] Values)> tensors, int layer, int hidden, float blockScale)
    {
        string p = $"model.layers.{layer}.";
        foreach (var name in tensors.Keys.ToArray())
            if (name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal))
                tensors[name] = (tensors[name].Shape, tensors[name].Values.Select(v => v * blockScale).ToArray());
        var projection = new float[hidden * 2 * hidden];
        for (int i = 0; i < hidden; i++) projection[i * 2 * hidden + i] = 1;
        tensors[p + "eh_proj.weight"] = ([hidden, 2 * hidden], projection);
        tensors[p + "enorm.weight"] = ([hidden], Enumerable.Repeat(1f, hidden).ToArray());
        tensors[p + "shared_head.norm.weight"] = tensors["model.norm.weight"];
        tensors[p + "shared_head.head.weight"] = tensors["lm_head.weight"];
    }

    /// <summary>
    /// The layer as a one-layer model's tensors, for llama.cpp where it runs no NextN graph: embedding row t is
    /// eh_proj·[enorm(embed(t)) ; hnorm(<paramref name="hiddenOf"/>(t))], computed here in double precision, so a NextN row
    /// whose hidden input is hiddenOf(its token) enters the decoder layer as that model's embedding does; the layer's
    /// shared head becomes the model's final norm and LM head, and its decoder layer the model's layer 0.
    /// </summary>
    public static Dictionary<string, (long[] Shape, float[] Values)> AsModel(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> tensors,
        int layer, int vocab, int hidden, Func<int, float[]> hiddenOf)
    {
        string p = $"model.layers.{layer}.";
        var embed = tensors["model.embed_tokens.weight"].Values;
        var projection = tensors[p + "eh_proj.weight"].Values;
        var table = new float[vocab * hidden];
        for (int t = 0; t < vocab; t++)
        {
            var input = RmsNorm(embed.AsSpan(t * hidden, hidden), tensors[p + "enorm.weight"].Values)
                .Concat(RmsNorm(hiddenOf(t), tensors[p + "hnorm.weight"].Values)).ToArray();
            for (int o = 0; o < hidden; o++)
            {
                double sum = 0;
                for (int i = 0; i < 2 * hidden; i++) sum += (double)projection[o * 2 * hidden + i] * input[i];
                table[t * hidden + o] = (float)sum;
            }
        }
        var model = new Dictionary<string, (long[] Shape, float[] Values)>
        {
            ["model.embed_tokens.weight"] = ([vocab, hidden], table),
            ["model.norm.weight"] = tensors[p + "shared_head.norm.weight"],
            ["lm_head.weight"] = tensors[p + "shared_head.head.weight"],
        };
        string[] nextNOnly = ["enorm.", "hnorm.", "eh_proj.", "shared_head.", "embed_tokens."];
        foreach (var (name, tensor) in tensors)
            if (name.StartsWith(p, StringComparison.Ordinal) && !nextNOnly.Any(n => name[p.Length..].StartsWith(n, StringComparison.Ordinal)))
                model["model.layers.0." + name[p.Length..]] = tensor;
        return model;
    }

    private static double[] RmsNorm(ReadOnlySpan<float> x, float[] weight)
    {
        double meanSquare = 0;
        foreach (float v in x) meanSquare += (double)v * v;
        double scale = 1 / Math.Sqrt(meanSquare / x.Length + RmsNormEps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
        return y;
    }
}
