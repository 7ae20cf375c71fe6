namespace GlmSharp.Planner.Catalog;

/// <summary>
/// A deployable system: <see cref="Chip"/> repeated, with a scale-up domain (NVLink, UnifiedBus) of
/// <see cref="ScaleUpDomain"/> chips and a scale-out network beyond it. <see cref="MaxChips"/> is null for
/// clusters that grow by whole domains.
/// </summary>
public sealed record SystemSpec
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required ChipSpec Chip { get; init; }
    public required int? MaxChips { get; init; }
    public required int ScaleUpDomain { get; init; }
    public required Quantity ScaleUpLatencyUs { get; init; }
    public required Quantity ScaleOutLatencyUs { get; init; }
    public required string Status { get; init; }
    public required string Source { get; init; }
    public IReadOnlyDictionary<string, Quantity> Claimed { get; init; } = new Dictionary<string, Quantity>();

    /// <summary>A lone chip used as a system: domain of one, unbounded count, scale-out for everything.</summary>
    public static SystemSpec ForChip(ChipSpec chip) => new()
    {
        Id = chip.Id,
        Name = chip.Name,
        Chip = chip,
        MaxChips = null,
        ScaleUpDomain = 1,
        ScaleUpLatencyUs = new Quantity(3, "assumed", "planner default"),
        ScaleOutLatencyUs = new Quantity(8, "assumed", "planner default"),
        Status = chip.Status,
        Source = chip.Source,
    };
}
