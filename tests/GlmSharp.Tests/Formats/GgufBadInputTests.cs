using System.Buffers.Binary;
using System.Text;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;

using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Formats;

public class GgufBadInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A valid file with metadata and two F32 tensors, returned as bytes for the test to damage.</summary>
    private byte[] ValidFile()
    {
        var writer = new GgufWriter();
        writer.SetMetadata("general.architecture", "llama");
        writer.SetMetadata("general.name", "bad-input");
        writer.AddTensor("aaaa", GgmlType.F32, [2, 8], new byte[64]);
        writer.AddTensor("bbbb", GgmlType.F32, [8], new byte[32]);
        writer.WriteTo(_dir.File("valid.gguf"));
        return File.ReadAllBytes(_dir.File("valid.gguf"));
    }

    private T OpenFails<T>(byte[] bytes) where T : Exception
    {
        string path = _dir.File("bad.gguf");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<T>(() => GgufFile.Open(path).Dispose());
        Assert.Contains("bad.gguf", e.Message);
        return e;
    }

    /// <summary>Position just after a tensor's name in the tensor table: n_dims, ne[], type, offset follow.</summary>
    private static int AfterTensorName(byte[] bytes, string name)
    {
        var needle = Encoding.UTF8.GetBytes(name);
        int at = bytes.AsSpan().LastIndexOf(needle);
        Assert.True(at > 0);
        return at + needle.Length;
    }

    private static int TypeField(byte[] bytes, string name)
    {
        int p = AfterTensorName(bytes, name);
        int dims = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(p));
        return p + 4 + 8 * dims;
    }

    [Fact]
    public void Bad_Magic_Is_Rejected()
    {
        var bytes = ValidFile();
        bytes[0] = (byte)'X';
        Assert.Contains("not a GGUF file", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(0x03000000u)]
    public void Unsupported_Version_Is_Rejected(uint version)
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), version);
        Assert.Contains($"version {version}", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Fact]
    public void Version_2_Is_Accepted()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 2);
        File.WriteAllBytes(_dir.File("v2.gguf"), bytes);
        using var file = GgufFile.Open(_dir.File("v2.gguf"));
        Assert.Equal("llama", file.Metadata.GetString("general.architecture"));
    }

    [Fact]
    public void Truncated_Header_Names_What_Was_Being_Read()
    {
        var bytes = ValidFile();
        int cut = bytes.AsSpan().IndexOf("bad-input"u8) + 3;
        var e = OpenFails<ModelFormatException>(bytes[..cut]);
        Assert.Contains("metadata 'general.name'", e.Message);
    }

    [Fact]
    public void Empty_File_Is_Reported_As_Truncated() =>
        Assert.Contains("magic", OpenFails<ModelFormatException>([]).Message);

    [Fact]
    public void Impossible_Tensor_Count_Is_Rejected_Before_Allocating()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), ulong.MaxValue / 2);
        Assert.Contains("tensor count", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Fact]
    public void String_Length_Past_End_Of_File_Is_Rejected()
    {
        var bytes = ValidFile();
        // The first key's length field follows magic, version and the two counts.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 1ul << 40);
        Assert.Contains("metadata key #0", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Fact]
    public void Truncated_Tensor_Data_Is_Rejected()
    {
        var bytes = ValidFile();
        var e = OpenFails<ModelFormatException>(bytes[..^8]);
        Assert.Contains("'bbbb'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Tensor_Offset_Outside_File_Is_Rejected()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(TypeField(bytes, "aaaa") + 4), 1 << 20);
        var e = OpenFails<ModelFormatException>(bytes);
        Assert.Contains("'aaaa'", e.Message);
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void Misaligned_Tensor_Offset_Is_Rejected()
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(TypeField(bytes, "bbbb") + 4), 65);
        Assert.Contains("alignment", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Theory]
    [InlineData(99u)]
    [InlineData((uint)GgmlType.F8_E4M3)] // GlmSharp's own id for block-scaled FP8 is not a GGUF type
    public void Unknown_Tensor_Type_Names_Tensor_And_Type_Id(uint typeId)
    {
        var bytes = ValidFile();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(TypeField(bytes, "bbbb")), typeId);
        var e = OpenFails<UnsupportedModelException>(bytes);
        Assert.Contains("'bbbb'", e.Message);
        Assert.Contains(typeId.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Duplicate_Tensor_Name_Is_Rejected()
    {
        var bytes = ValidFile();
        "aaaa"u8.CopyTo(bytes.AsSpan(AfterTensorName(bytes, "bbbb") - 4));
        Assert.Contains("'aaaa' appears more than once", OpenFails<ModelFormatException>(bytes).Message);
    }

    [Fact]
    public void Nested_Metadata_Array_Is_Rejected_Clearly()
    {
        var header = new MemoryStream();
        using (var w = new BinaryWriter(header))
        {
            w.Write(GgufFile.Magic); w.Write(3u); w.Write(0ul); w.Write(1ul);
            w.Write(6ul); w.Write("nested"u8);
            w.Write((uint)GgufValueType.Array); w.Write((uint)GgufValueType.Array); w.Write(0ul);
        }
        Assert.Contains("array of arrays", OpenFails<UnsupportedModelException>(header.ToArray()).Message);
    }
}
