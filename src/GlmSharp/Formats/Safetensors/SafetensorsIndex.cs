using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>The <c>model.safetensors.index.json</c> of a sharded checkpoint: which shard file holds each tensor.</summary>
public static class SafetensorsIndex
{
    public const string FileName = "model.safetensors.index.json";

    public static IReadOnlyDictionary<string, string> ReadWeightMap(string indexPath)
    {
        using (var document = JsonText.ParseObject(File.ReadAllBytes(indexPath), indexPath))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{indexPath}: expected an object with a 'weight_map' object.");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (string.IsNullOrEmpty(shard) || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new ModelFormatException($"{indexPath}: weight_map entry '{entry.Name}' is {entry.Value.GetRawText()}, expected a shard file name in the same folder.");
                if (!weightMap.TryAdd(entry.Name, shard))
                    throw new ModelFormatException($"{indexPath}: weight_map lists '{entry.Name}' more than once.");
            }
            return weightMap;
        }
    }
}
