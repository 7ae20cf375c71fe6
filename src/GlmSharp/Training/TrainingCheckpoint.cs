using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// Everything needed to continue training bit for bit: the architecture and shape, the completed step count, the
/// parameters and both AdamW moments. Layout (little-endian): "GLMTRAIN", int32 version, [version 2: int32 + UTF-8
/// architecture,] int32 + UTF-8 shape JSON, int64 step, int64 optimiser steps, int64 parameter count, then values,
/// first moments and second moments as fp32. Version 1 files (before glm4_moe) are glm4.
/// </summary>
public sealed record TrainingCheckpoint(
    string Architecture, string ShapeJson, long Step, long OptimizerSteps, float[] Values, float[] FirstMoment, float[] SecondMoment)
{
    private const string Magic = "GLMTRAIN";
    private const int Version = 2;

    public static void Save(string path, ITrainingModel model, long step, AdamW optimizer)
    {
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            WriteText(writer, model.Architecture);
            WriteText(writer, model.ShapeJson);
            writer.Write(step);
            writer.Write(optimizer.StepCount);
            writer.Write((long)model.Parameters.Count);
            writer.Write(MemoryMarshal.AsBytes(model.Parameters.Values.AsSpan()));
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
            if (version is not (1 or Version)) throw Bad(path, "version", $"1 or {Version}", version.ToString());
            string architecture = version == 1 ? "glm4" : ReadText(reader, stream, path, "architecture");
            string shape = ReadText(reader, stream, path, "shape");
            long step = reader.ReadInt64();
            long optimizerSteps = reader.ReadInt64();
            long count = reader.ReadInt64();
            long expectedLength = stream.Position + 3 * count * sizeof(float);
            if (count <= 0 || stream.Length != expectedLength) throw Bad(path, "file length", expectedLength.ToString(), stream.Length.ToString());
            return new TrainingCheckpoint(architecture, shape, step, optimizerSteps, ReadFloats(reader, count), ReadFloats(reader, count),
                ReadFloats(reader, count));
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"{path}: training checkpoint is truncated or corrupt ({e.Message})", e);
        }
    }

    /// <summary>The saved shape, for an architecture whose shape record is <typeparamref name="TShape"/>.</summary>
    public TShape Shape<TShape>(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TShape>(ShapeJson) ?? throw Bad(path, "shape", "a JSON object", "null");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: training checkpoint field 'shape' is not a {Architecture} shape ({e.Message})", e);
        }
    }

    /// <summary>Copies the saved state into a model of the same architecture and shape, and its optimiser.</summary>
    public void RestoreInto(ITrainingModel model, AdamW optimizer)
    {
        if (model.Architecture != Architecture || model.ShapeJson != ShapeJson)
            throw new GlmException($"checkpoint {Architecture} shape {ShapeJson} does not match the model being trained, {model.Architecture} {model.ShapeJson}");
        if (model.Parameters.Count != Values.Length)
            throw new GlmException($"checkpoint holds {Values.Length} parameters, the model being trained has {model.Parameters.Count}");
        Values.CopyTo(model.Parameters.Values, 0);
        FirstMoment.CopyTo(optimizer.FirstMoment, 0);
        SecondMoment.CopyTo(optimizer.SecondMoment, 0);
        optimizer.StepCount = OptimizerSteps;
    }

    private static void WriteText(BinaryWriter writer, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static string ReadText(BinaryReader reader, Stream stream, string path, string field)
    {
        int length = reader.ReadInt32();
        if (length <= 0 || length > stream.Length - stream.Position) throw Bad(path, $"{field} length", "a positive size within the file", length.ToString());
        return Encoding.UTF8.GetString(reader.ReadBytes(length));
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
