using System.Buffers.Binary;
using System.Text;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Formats;

public unsafe class SafetensorsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static float[] Decode(TensorView view)
    {
        var values = new float[view.ElementCount];
        TensorCodec.DequantizeRow(view.Type, new ReadOnlySpan<byte>(view.Data, (int)view.ByteLength), values);
        return values;
    }

    [Fact]
    public void Single_File_Round_Trips_Floats_Raw_Bytes_And_Metadata()
    {
        var values = new[] { 1f, -2f, 0.5f, 3.25f, -0.125f, 8f };
        var writer = new SafetensorsWriter();
        writer.SetMetadata("format", "pt");
        writer.AddFloats("a.f32", SafetensorsDtype.F32, [2, 3], values);
        writer.AddFloats("a.f16", SafetensorsDtype.F16, [3, 2], values);
        writer.AddFloats("a.bf16", SafetensorsDtype.BF16, [6], values);
        writer.Add("a.i8", SafetensorsDtype.I8, [3], new byte[] { 1, 2, 3 });
        writer.WriteTo(_dir.File("model.safetensors"));

        using var file = SafetensorsFile.Open(_dir.File("model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(0, file.DataOffset % 8);
        Assert.Equal(new long[] { 3, 2 }, file.GetTensor("a.f16").Shape);
        Assert.Equal(GgmlType.BF16, file.GetTensor("a.bf16").Type);
        Assert.Equal(values, Decode(file.GetTensor("a.f32")));
        Assert.Equal(values, Decode(file.GetTensor("a.f16")));
        Assert.Equal(values, Decode(file.GetTensor("a.bf16")));
        var f16 = file.GetTensor("a.f16");
        Assert.Equal(0x3C00, BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(f16.Data, 2)));

        Assert.True(file.TryGetTensorInfo("a.i8", out var i8));
        Assert.Equal(SafetensorsDtype.I8, i8.Dtype);
        var e = Assert.Throws<UnsupportedModelException>(() => file.View(i8));
        Assert.Contains("'a.i8'", e.Message);
        Assert.Contains("I8", e.Message);
    }

    [Fact]
    public void Sharded_Checkpoint_Round_Trips_Through_Index()
    {
        var writer = new SafetensorsWriter();
        for (int i = 0; i < 5; i++)
            writer.AddFloats($"layer.{i}.weight", SafetensorsDtype.F32, [4, 4], Enumerable.Range(0, 16).Select(k => (float)(k + 100 * i)).ToArray());
        var shards = writer.WriteSharded(_dir.Path, maxShardBytes: 128);
        Assert.Equal(3, shards.Count);
        Assert.True(File.Exists(_dir.File(SafetensorsIndex.FileName)));

        using var source = SafetensorsTensorSource.Open(_dir.Path);
        Assert.Equal(5, source.Names.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(source.TryGet($"layer.{i}.weight", out var view));
            Assert.Equal(Enumerable.Range(0, 16).Select(k => (float)(k + 100 * i)), Decode(view));
        }
        Assert.False(source.TryGet("absent", out _));
    }

    [Fact]
    public void Folder_With_Single_File_Opens_As_Source()
    {
        var writer = new SafetensorsWriter();
        writer.AddFloats("w", SafetensorsDtype.BF16, [2], new[] { 1f, 2f });
        writer.WriteTo(_dir.File("model.safetensors"));
        using var source = SafetensorsTensorSource.Open(_dir.Path);
        Assert.True(source.TryGet("w", out var view));
        Assert.Equal(new[] { 1f, 2f }, Decode(view));
    }

    private static byte[] Raw(string header, int dataBytes, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private T OpenFails<T>(byte[] bytes) where T : Exception
    {
        string path = _dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<T>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("bad.safetensors", e.Message);
        return e;
    }

    [Fact]
    public void Header_Length_Larger_Than_File_Is_Rejected() =>
        Assert.Contains("header length 4096", OpenFails<ModelFormatException>(Raw("{}", 0, declaredLength: 4096)).Message);

    [Fact]
    public void File_Shorter_Than_Length_Field_Is_Rejected() =>
        Assert.Contains("truncated", OpenFails<ModelFormatException>([1, 2, 3]).Message);

    [Fact]
    public void Bad_Json_Header_Is_Rejected() =>
        Assert.Contains("not valid JSON", OpenFails<ModelFormatException>(Raw("{\"w\": {\"dtype\": ", 0)).Message);

    [Fact]
    public void Data_Offsets_Inconsistent_With_Shape_Are_Rejected()
    {
        var e = OpenFails<ModelFormatException>(Raw("""{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 24));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("needs 24", e.Message);
    }

    [Fact]
    public void Data_Offsets_Outside_Data_Section_Are_Rejected()
    {
        var e = OpenFails<ModelFormatException>(Raw("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", 16));
        Assert.Contains("16-byte data section", e.Message);
    }

    [Fact]
    public void Unknown_Dtype_Names_Tensor_And_Dtype()
    {
        var e = OpenFails<UnsupportedModelException>(Raw("""{"w":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}""", 2));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("'F4'", e.Message);
    }

    [Fact]
    public void Duplicate_Tensor_In_Header_Is_Rejected()
    {
        const string entry = """{"dtype":"U8","shape":[1],"data_offsets":[0,1]}""";
        Assert.Contains("more than once", OpenFails<ModelFormatException>(Raw($$"""{"w":{{entry}},"w":{{entry}}}""", 1)).Message);
    }

    private void WriteShardedPair()
    {
        var writer = new SafetensorsWriter();
        writer.AddFloats("a", SafetensorsDtype.F32, [8], new float[8]);
        writer.AddFloats("b", SafetensorsDtype.F32, [8], new float[8]);
        writer.WriteSharded(_dir.Path, maxShardBytes: 32);
    }

    [Fact]
    public void Missing_Shard_Is_Named()
    {
        WriteShardedPair();
        File.Delete(_dir.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsTensorSource.Open(_dir.Path));
        Assert.Contains("'model-00002-of-00002.safetensors'", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void Tensor_Listed_In_Index_But_Absent_From_Shard_Is_Named()
    {
        WriteShardedPair();
        string index = _dir.File(SafetensorsIndex.FileName);
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"b\"", "\"c\""));
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsTensorSource.Open(_dir.Path));
        Assert.Contains("'c'", e.Message);
        Assert.Contains("does not contain it", e.Message);
    }
}

public class SafetensorsDtypeTests
{
    [Theory]
    [InlineData("F32", true)]
    [InlineData("F8_E4M3", true)]
    [InlineData("f32", false)]
    [InlineData("11", false)]
    [InlineData("BOOL, U8", false)]
    public void Only_Exact_Header_Spellings_Parse(string text, bool known) =>
        Assert.Equal(known, SafetensorsDtypes.TryParse(text, out _));
}
