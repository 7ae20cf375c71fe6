using System.Reflection;
using System.Text.Json;

namespace GlmSharp.Planner.Catalog;

/// <summary>
/// Chips and systems: the shipped data (embedded in this assembly) plus any user files. A user file is a JSON object with
/// optional <c>chips</c> and <c>systems</c> arrays in the shipped format; a user record with an existing id replaces it.
/// </summary>
public sealed class HardwareCatalog
{
    private readonly Dictionary<string, ChipSpec> _chips;
    private readonly Dictionary<string, SystemSpec> _systems;

    private HardwareCatalog(Dictionary<string, ChipSpec> chips, Dictionary<string, SystemSpec> systems)
    {
        _chips = chips;
        _systems = systems;
    }

    public IReadOnlyCollection<ChipSpec> Chips => _chips.Values;
    public IReadOnlyCollection<SystemSpec> Systems => _systems.Values;

    /// <summary>The shipped catalog, then each user file in order (later files win).</summary>
    public static HardwareCatalog Load(IEnumerable<string>? userFiles = null)
    {
        var docs = new List<(JsonElement Root, string Origin)>
        {
            (EmbeddedData.Json("chips.json"), "chips.json (shipped)"),
            (EmbeddedData.Json("systems.json"), "systems.json (shipped)"),
        };
        foreach (var file in userFiles ?? [])
            docs.Add((EmbeddedData.ParseFile(file), file));
        return FromDocuments(docs);
    }

    public static HardwareCatalog FromDocuments(IEnumerable<(JsonElement Root, string Origin)> docs)
    {
        var chips = new Dictionary<string, ChipSpec>();
        var pendingSystems = new List<CatalogRecord>();
        foreach (var (root, origin) in docs)
        {
            foreach (var r in Records(root, "chips", origin)) chips[r.Id] = ChipReader.Read(r);
            pendingSystems.AddRange(Records(root, "systems", origin));
        }
        var systems = new Dictionary<string, SystemSpec>();
        foreach (var r in pendingSystems) systems[r.Id] = SystemReader.Read(r, chips);
        return new HardwareCatalog(chips, systems);
    }

    public ChipSpec Chip(string id) => _chips.TryGetValue(id, out var c) ? c
        : throw new PlanRequestException($"unknown chip '{id}' (known: {string.Join(", ", _chips.Keys.Order())})");

    /// <summary>A system id, or a chip id used as a bare cluster of that chip.</summary>
    public SystemSpec System(string id) =>
        _systems.TryGetValue(id, out var s) ? s
        : _chips.TryGetValue(id, out var c) ? SystemSpec.ForChip(c)
        : throw new PlanRequestException($"unknown hardware '{id}' (systems: {string.Join(", ", _systems.Keys.Order())}; chips: {string.Join(", ", _chips.Keys.Order())})");

    private static IEnumerable<CatalogRecord> Records(JsonElement root, string array, string origin)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new CatalogFormatException($"{origin}: expected a JSON object at the top");
        if (!root.TryGetProperty(array, out var list)) yield break;
        if (list.ValueKind != JsonValueKind.Array) throw new CatalogFormatException($"{origin}: field '{array}' must be an array");
        int i = 0;
        foreach (var e in list.EnumerateArray()) yield return new CatalogRecord(e, origin, i++);
    }
}
