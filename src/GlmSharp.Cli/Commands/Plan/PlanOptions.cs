using System.CommandLine;
using System.Text.Json;
using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;

namespace GlmSharp.Cli.Commands.Plan;

/// <summary>Options every plan subcommand shares, and loading the catalog and factors they point at.</summary>
internal static class PlanOptions
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print machine-readable JSON instead of tables" };
    public static readonly Option<string[]> Catalog = new Option<string[]>("--catalog") { Description = "Extra chip/system JSON files (same format as the shipped ones)", AllowMultipleArgumentsPerToken = true }
        .ExistingFile();
    public static readonly Option<string?> Efficiency = new Option<string?>("--efficiency") { Description = "Efficiency-factor file written by `glm plan calibrate` (default: the shipped fit)" }
        .ExistingFile();

    /// <summary>The chance that one MTP draft token is accepted: 1 accepts every draft, 0 turns MTP off.</summary>
    public static Option<double> MtpAcceptance() => new Option<double>("--mtp-acceptance") { Description = "Acceptance of one MTP draft token (0 = MTP off)" }
        .Within(NumericRange.Closed(0, 1));

    public static HardwareCatalog LoadCatalog(ParseResult parse) => HardwareCatalog.Load(parse.GetValue(Catalog) ?? []);

    public static EfficiencyTable LoadEfficiency(ParseResult parse) =>
        parse.GetValue(Efficiency) is { } path ? EfficiencyTable.LoadFile(path) : EfficiencyTable.LoadShipped();

    public static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
