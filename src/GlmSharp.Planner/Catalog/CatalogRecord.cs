using System.Text.Json;

namespace GlmSharp.Planner.Catalog;

/// <summary>
/// Typed access to one record of a catalog file. Errors name the file, the record id and the field, so a user
/// who adds a chip can fix the file without reading our code.
/// </summary>
internal sealed class CatalogRecord
{
    private readonly JsonElement _e;

    public string Origin { get; }
    public string Id { get; }
    public string Status { get; }
    public string Source { get; }

    public CatalogRecord(JsonElement e, string file, int index)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new CatalogFormatException($"{file}: record #{index} is not a JSON object");
        _e = e;
        Origin = file;
        Id = e.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()!
            : throw new CatalogFormatException($"{file}: record #{index} has no string field 'id'");
        Status = OptString("status") ?? throw Fail("status", "is missing");
        if (!Catalog.Quantity.Statuses.Contains(Status)) throw Fail("status", $"is '{Status}', expected one of {string.Join(", ", Catalog.Quantity.Statuses)}");
        Source = OptString("source") ?? throw Fail("source", "is missing");
    }

    public CatalogFormatException Fail(string field, string problem) => new($"{Origin}: '{Id}': field '{field}' {problem}");

    public bool Has(string field) => _e.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    public string? OptString(string field) => _e.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Fail(field, $"must be a string, found {v.GetRawText()}")
        : null;

    public string String(string field) => OptString(field) ?? throw Fail(field, "is missing");

    public int? OptInt(string field)
    {
        if (!_e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i) || i < 0) throw Fail(field, $"must be a non-negative integer, found {v.GetRawText()}");
        return i;
    }

    public int Int(string field) => OptInt(field) ?? throw Fail(field, "is missing");

    public double? OptDouble(string field)
    {
        if (!_e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Fail(field, $"must be a number, found {v.GetRawText()}");
        return v.GetDouble();
    }

    public double Double(string field) => OptDouble(field) ?? throw Fail(field, "is missing");

    public bool? OptBool(string field) => _e.TryGetProperty(field, out var v) ? v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw Fail(field, $"must be true or false, found {v.GetRawText()}"),
    } : null;

    /// <summary>A bare positive number inherits this record's status and source; an object carries its own.</summary>
    public Quantity? OptQuantity(string field) =>
        _e.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? ReadQuantity(v, field) : null;

    public Quantity Quantity(string field) => OptQuantity(field) ?? throw Fail(field, "is missing");

    /// <summary>The fields of a nested object read as quantities, e.g. <c>peak_tflops: {bf16: 752}</c>.</summary>
    public IReadOnlyDictionary<string, Quantity> QuantityMap(string field)
    {
        if (!_e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return new Dictionary<string, Quantity>();
        if (v.ValueKind != JsonValueKind.Object) throw Fail(field, $"must be an object, found {v.GetRawText()}");
        return v.EnumerateObject().ToDictionary(p => p.Name, p => ReadQuantity(p.Value, $"{field}.{p.Name}"));
    }

    public JsonElement? Raw(string field) => _e.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private Quantity ReadQuantity(JsonElement v, string field)
    {
        if (v.ValueKind == JsonValueKind.Number) return Checked(new Quantity(v.GetDouble(), Status, Source), field);
        if (v.ValueKind != JsonValueKind.Object) throw Fail(field, $"must be a number or {{value, status, source}}, found {v.GetRawText()}");
        if (!v.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Number) throw Fail(field, "has no numeric 'value'");
        string status = v.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : Status;
        if (!Catalog.Quantity.Statuses.Contains(status)) throw Fail(field, $"has status '{status}', expected one of {string.Join(", ", Catalog.Quantity.Statuses)}");
        string source = v.TryGetProperty("source", out var src) && src.ValueKind == JsonValueKind.String ? src.GetString()! : Source;
        string? note = v.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return Checked(new Quantity(value.GetDouble(), status, source, note), field);
    }

    private Quantity Checked(Quantity q, string field) =>
        q.Value >= 0 && double.IsFinite(q.Value) ? q : throw Fail(field, $"must be a finite non-negative number, found {q.Value}");
}
