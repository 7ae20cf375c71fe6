using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// Everything needed to continue training bit for bit: the shape, the completed step count, the parameters and both AdamW
/// moments. Layout (little-endian): "GLMTRAIN", int32 version, int32 + UTF-8 shape JSON, int64 step, int64 optimiser
/// steps, int64 parameter count, then values, first moments and second moments as fp32.
/// </summary>
public sealed record TrainingCheckpoint(
    Glm4TrainingShape Shape, long Step, long OptimizerSteps, float[] Values, float[] FirstMoment, float[] SecondMoment)
{
    private const string Magic = "GLMTRAIN";
    private const int Version = 1;

    public static void Save(string path, Glm4TrainingShape shape, long step, TrainingParameters parameters, AdamW optimizer)
    {
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(shape);
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(step);
            writer.Write(optimizer.StepCount);
            writer.Write((long)parameters.Count);
            writer.Write(MemoryMarshal.AsBytes(parameters.Values.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(optimizer.FirstMoment.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(optimizer.SecondMoment.AsSpan()));
        }
        // The rename makes the replacement atomic: an interrupted save never leaves a half-written checkpoint behind.
        File.Move(temporary, path, overwrite: true);
    }

    public static TrainingCheckpoint Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            string magic = Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length));
            if (magic != Magic) throw Bad(path, "magic", Magic, magic);
            int version = reader.ReadInt32();
            if (version != Version) throw Bad(path, "version", Version.ToString(), version.ToString());
            int jsonLength = reader.ReadInt32();
            if (jsonLength <= 0 || jsonLength > stream.Length) throw Bad(path, "shape length", "a positive size within the file", jsonLength.ToString());
            var shape = JsonSerializer.Deserialize<Glm4TrainingShape>(reader.ReadBytes(jsonLength))
                ?? throw Bad(path, "shape", "a JSON object", "null");
            long step = reader.ReadInt64();
            long optimizerSteps = reader.ReadInt64();
            long count = reader.ReadInt64();
            if (count != shape.ParameterCount) throw Bad(path, "parameter count", shape.ParameterCount.ToString(), count.ToString());
            long expectedLength = stream.Position + 3 * count * sizeof(float);
            if (stream.Length != expectedLength) throw Bad(path, "file length", expectedLength.ToString(), stream.Length.ToString());
            return new TrainingCheckpoint(shape, step, optimizerSteps, ReadFloats(reader, count), ReadFloats(reader, count),
                ReadFloats(reader, count));
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new ModelFormatException($"{path}: training checkpoint is truncated or corrupt ({e.Message})", e);
        }
    }

    /// <summary>Copies the saved state into a model of the same shape and its optimiser.</summary>
    public void RestoreInto(Glm4TrainingWeights weights, AdamW optimizer)
    {
        if (weights.Shape != Shape)
            throw new GlmException($"checkpoint shape {Shape} does not match the model being trained {weights.Shape}");
        Values.CopyTo(weights.Parameters.Values, 0);
        FirstMoment.CopyTo(optimizer.FirstMoment, 0);
        SecondMoment.CopyTo(optimizer.SecondMoment, 0);
        optimizer.StepCount = OptimizerSteps;
    }

    private static float[] ReadFloats(BinaryReader reader, long count)
    {
        var values = new float[count];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        if (reader.Read(bytes) != bytes.Length) throw new EndOfStreamException();
        return values;
    }

    private static ModelFormatException Bad(string path, string field, string expected, string found) =>
        new($"{path}: training checkpoint field '{field}' expected {expected}, found {found}");
}
