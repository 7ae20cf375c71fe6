namespace GlmSharp.Planner.Catalog;

/// <summary>One catalog number with where it comes from: claim, measured, derived, unconfirmed or assumed.</summary>
public sealed record Quantity(double Value, string Status, string Source, string? Note = null)
{
    public static readonly string[] Statuses = ["claim", "measured", "derived", "unconfirmed", "assumed"];

    public override string ToString() => $"{Value:G4} ({Status})";
}
