using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>Checkpoints that are well-formed files but wrong as models fail at load, naming the tensor or field.</summary>
public sealed class BadCheckpointTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TinyGlmSpec Spec = new("glm4", 64, 32, 1, 2, 1, 16, 64, 0.5, Bias: true, Tied: false);

    public void Dispose() => _dir.Dispose();

    private string WriteWith(Action<Dictionary<string, (long[] Shape, float[] Values)>> edit, string? configEdit = null)
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 1);
        var tensors = checkpoint.Tensors.ToDictionary(t => t.Key, t => t.Value);
        edit(tensors);
        string folder = _dir.File("hf");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), configEdit ?? checkpoint.ConfigJsonText());
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in tensors) writer.AddFloats(name, SafetensorsDtype.F32, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }

    [Fact]
    public void Missing_Tensor_Is_Named()
    {
        string folder = WriteWith(t => t.Remove("model.layers.0.post_mlp_layernorm.weight"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("'model.layers.0.post_mlp_layernorm.weight' is missing", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void Misshaped_Tensor_Names_Expected_And_Found_Shapes()
    {
        string folder = WriteWith(t => t["model.layers.0.mlp.gate_up_proj.weight"] = ([96, 32], new float[96 * 32]));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("model.layers.0.mlp.gate_up_proj.weight", e.Message);
        Assert.Contains("[96,32]", e.Message);
        Assert.Contains("expected [128,32]", e.Message);
    }

    [Fact]
    public void Unsupported_Element_Type_Names_The_Tensor_And_Type()
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 1);
        string folder = checkpoint.WriteHuggingFace(_dir.File("hf"));
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in checkpoint.Tensors)
            if (name == "model.layers.0.self_attn.q_proj.weight")
                writer.Add(name, SafetensorsDtype.I32, shape, new byte[values.Length * 4]);
            else
                writer.AddFloats(name, SafetensorsDtype.F32, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        var e = Assert.ThrowsAny<GlmException>(() => ModelLoader.Load(folder));
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", e.Message);
        Assert.Contains("I32", e.Message);
    }

    [Fact]
    public void Config_Field_Of_The_Wrong_Type_Is_Named()
    {
        var text = new RandomGlmCheckpoint(Spec, seed: 1).ConfigJsonText().Replace("\"hidden_size\":32", "\"hidden_size\":\"big\"");
        string folder = WriteWith(_ => { }, text);
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("hidden_size", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Prompt_Over_The_Context_Is_Refused_Before_Anything_Runs()
    {
        string folder = WriteWith(_ => { });
        using var loaded = ModelLoader.Load(folder);
        var session = loaded.Model.CreateSession(16);
        var logits = new float[Spec.Vocab];
        loaded.Model.Forward([1, 2, 3], session, logits);
        var e = Assert.Throws<ContextLimitException>(() => loaded.Model.Forward(new int[14], session, logits));
        Assert.Contains("14 new tokens after 3 cached ones exceed the context of 16", e.Message);
        Assert.Equal(3, session.Length);
    }

    /// <summary>Spec's fused q/k/v is 32 + 16 + 16 = 64 rows: q for 2 heads of 16, k and v for 1 kv head.</summary>
    [Theory]
    [InlineData("weight", new long[] { 48, 32 }, "[48,32], expected [64,32]")]
    [InlineData("weight", new long[] { 64, 24 }, "[64,24], expected [64,32]")]
    [InlineData("bias", new long[] { 80 }, "[80], expected [64]")]
    public void Fused_Qkv_Of_The_Wrong_Shape_Names_The_Tensor_And_Both_Shapes(string kind, long[] shape, string shapes)
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 1).WithFusedQkv()
            .With($"model.layers.0.{GlmTensorNames.FusedQkv}.{kind}", (shape, new float[shape.Aggregate(1L, (a, b) => a * b)]));
        string gguf = checkpoint.WriteGguf(_dir.File("fused.gguf"), GgmlType.F32);
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(gguf));
        Assert.Contains("fused.gguf", e.Message);
        Assert.Contains($"tensor 'blk.0.attn_qkv.{kind}' has shape {shapes}", e.Message);
    }
}
