using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Formats;

public unsafe class GgufRoundTripTests
{
    public static TheoryData<object> MetadataValues() =>
    [
        (byte)200, (sbyte)-100, (ushort)60000, (short)-30000, 4000000000u, -2000000000, 1.5f, true, false,
        "héllo", 18000000000000000000ul, -9000000000000000000L, 2.25,
        new byte[] { 1, 2, 255 }, new sbyte[] { -1, 2 }, new ushort[] { 1, 65535 }, new short[] { -5, 5 },
        new uint[] { 7, 4000000000 }, new[] { -1, 0, 1 }, new[] { 0.5f, -1f }, new[] { true, false, true },
        new[] { "a", "", "ünïcode" }, new ulong[] { 1, ulong.MaxValue }, new long[] { long.MinValue, 3 },
        new[] { 1.0, -2.5 }, Array.Empty<string>(),
    ];

    [Theory]
    [MemberData(nameof(MetadataValues))]
    public void Metadata_Value_Round_Trips_With_Its_Type(object value)
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.SetMetadata("test.value", value);
        writer.WriteTo(dir.File("m.gguf"));

        using var file = GgufFile.Open(dir.File("m.gguf"));
        var read = file.Metadata["test.value"];
        Assert.Equal(value.GetType(), read.GetType());
        Assert.Equal(value, read);
    }

    [Fact]
    public void Tensors_Round_Trip_With_Torch_Order_Shape_And_Aligned_Offsets()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var types = new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0 };
        var shapes = new long[][] { [3, 64], [64], [2, 3, 32], [5, 64], [4, 32] };
        var payloads = new byte[types.Length][];
        var writer = new GgufWriter();
        writer.SetMetadata("general.architecture", "test");
        for (int i = 0; i < types.Length; i++)
        {
            payloads[i] = new byte[GgmlTypeInfo.TensorByteSize(types[i], shapes[i])];
            rng.NextBytes(payloads[i]);
            writer.AddTensor($"t{i}", types[i], shapes[i], payloads[i]);
        }
        writer.WriteTo(dir.File("t.gguf"));

        using var file = GgufFile.Open(dir.File("t.gguf"));
        Assert.Equal(3u, file.Version);
        Assert.Equal(0, file.DataOffset % 32);
        Assert.Equal(types.Length, file.Tensors.Count);
        for (int i = 0; i < types.Length; i++)
        {
            var info = file.Tensors[i];
            Assert.Equal($"t{i}", info.Name);
            Assert.Equal(types[i], info.Type);
            Assert.Equal(shapes[i], info.Shape);
            Assert.Equal(shapes[i].Reverse(), info.Ne);
            Assert.Equal(0, info.Offset % 32);
            var view = file.GetTensor($"t{i}");
            Assert.Equal(shapes[i], view.Shape);
            Assert.Equal(payloads[i], new ReadOnlySpan<byte>(view.Data, (int)view.ByteLength).ToArray());
        }
    }

    [Fact]
    public void Custom_Alignment_Is_Recorded_And_Respected()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter(alignment: 64);
        writer.AddTensor("a", GgmlType.F32, [3], new byte[12]);
        writer.AddTensor("b", GgmlType.F32, [5], new byte[20]);
        writer.WriteTo(dir.File("a.gguf"));

        using var file = GgufFile.Open(dir.File("a.gguf"));
        Assert.Equal(64, file.Alignment);
        Assert.Equal(64u, file.Metadata.GetUInt(GgufFile.AlignmentKey));
        Assert.Equal(0, file.DataOffset % 64);
        Assert.Equal(64, file.Tensors[1].Offset);
    }

    [Fact]
    public void Floats_Are_Quantized_Row_By_Row_While_Writing()
    {
        using var dir = new TempDir();
        var values = Enumerable.Range(0, 64).Select(i => (float)(i - 32)).ToArray();
        var writer = new GgufWriter();
        writer.AddTensorFromFloats("w", GgmlType.Q8_0, [2, 32], values);
        writer.WriteTo(dir.File("q.gguf"));

        using var file = GgufFile.Open(dir.File("q.gguf"));
        var view = file.GetTensor("w");
        var expected = new byte[68];
        TensorCodec.QuantizeRow(GgmlType.Q8_0, values.AsSpan(0, 32), expected.AsSpan(0, 34));
        TensorCodec.QuantizeRow(GgmlType.Q8_0, values.AsSpan(32, 32), expected.AsSpan(34, 34));
        Assert.Equal(expected, new ReadOnlySpan<byte>(view.Data, 68).ToArray());
    }

    [Fact]
    public void Streaming_Writer_That_Writes_The_Wrong_Size_Is_Reported()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.AddTensor("short", GgmlType.F32, [4], s => s.Write(new byte[12]));
        var e = Assert.Throws<InvalidOperationException>(() => writer.WriteTo(dir.File("s.gguf")));
        Assert.Contains("short", e.Message);
        Assert.False(File.Exists(dir.File("s.gguf")));
    }

    [Fact]
    public void Metadata_Helpers_Widen_Integers_And_Name_Key_And_Types_On_Mismatch()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.SetMetadata("a.u8", (byte)7);
        writer.SetMetadata("a.u64", 123456ul);
        writer.SetMetadata("a.i32", -1);
        writer.SetMetadata("a.f64", 0.25);
        writer.SetMetadata("a.tokens", new[] { "x", "y" });
        writer.WriteTo(dir.File("h.gguf"));

        using var file = GgufFile.Open(dir.File("h.gguf"));
        var m = file.Metadata;
        Assert.Equal(7u, m.GetUInt("a.u8"));
        Assert.Equal(123456u, m.GetUInt("a.u64"));
        Assert.Equal(-1, m.GetInt("a.i32"));
        Assert.Equal(0.25f, m.GetFloat("a.f64"));
        Assert.Equal(new[] { "x", "y" }, m.GetArray<string>("a.tokens"));
        Assert.False(m.TryGetString("a.absent", out _));

        var wrongType = Assert.Throws<Errors.ModelFormatException>(() => m.GetString("a.i32"));
        Assert.Contains("h.gguf", wrongType.Message);
        Assert.Contains("'a.i32' is int32, expected string", wrongType.Message);
        var negative = Assert.Throws<Errors.ModelFormatException>(() => m.GetUInt("a.i32"));
        Assert.Contains("uint32", negative.Message);
        var wrongArray = Assert.Throws<Errors.ModelFormatException>(() => m.GetArray<int>("a.tokens"));
        Assert.Contains("array of string, expected array of int32", wrongArray.Message);
        var missing = Assert.Throws<Errors.ModelFormatException>(() => m.GetUInt("a.absent"));
        Assert.Contains("'a.absent'", missing.Message);
    }

    [Fact]
    public void Tensor_Source_Exposes_Mapped_Names_Only()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.AddTensor("blk.0.attn_q.weight", GgmlType.F32, [2, 2], new byte[16]);
        writer.AddTensor("rope_freqs.weight", GgmlType.F32, [2], new byte[8]);
        writer.WriteTo(dir.File("s.gguf"));

        using var source = GgufTensorSource.Open(dir.File("s.gguf"),
            n => n == "blk.0.attn_q.weight" ? "model.layers.0.self_attn.q_proj.weight" : null);
        Assert.Equal(["model.layers.0.self_attn.q_proj.weight"], source.Names);
        Assert.True(source.TryGet("model.layers.0.self_attn.q_proj.weight", out var view));
        Assert.Equal(new long[] { 2, 2 }, view.Shape);
        Assert.False(source.TryGet("rope_freqs.weight", out _));
    }

    [Fact]
    public void Tensor_Source_Rejects_Two_Tensors_Mapping_To_One_Name()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.AddTensor("a", GgmlType.F32, [1], new byte[4]);
        writer.AddTensor("b", GgmlType.F32, [1], new byte[4]);
        writer.WriteTo(dir.File("c.gguf"));

        var e = Assert.Throws<Errors.ModelFormatException>(() => GgufTensorSource.Open(dir.File("c.gguf"), _ => "same"));
        Assert.Contains("'a' and 'b'", e.Message);
    }

    [Fact]
    public void Writer_Rejects_Metadata_Without_A_Gguf_Type()
    {
        var writer = new GgufWriter();
        Assert.Throws<ArgumentException>(() => writer.SetMetadata("nested", new[] { new[] { 1 } }));
        Assert.Throws<ArgumentException>(() => writer.SetMetadata("decimal", 1m));
        Assert.Throws<ArgumentException>(() => writer.SetMetadata(GgufFile.AlignmentKey, 64u));
    }
}
