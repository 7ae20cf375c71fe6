using System.CommandLine;
using System.Text.Json;
using GlmSharp.Planner.Claims;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class ClaimsCommand
{
    public static Command Create()
    {
        var command = new Command("claims", "Reproduce the Atlas 950 SuperPoD vs NVL144 claims from the catalog and check their arithmetic")
        {
            PlanOptions.Json, PlanOptions.Catalog, PlanOptions.Efficiency,
        };
        command.SetAction(parse =>
        {
            var results = ClaimChecker.Check(PlanOptions.LoadCatalog(parse), PlanOptions.LoadEfficiency(parse));
            if (parse.GetValue(PlanOptions.Json)) { Console.WriteLine(JsonSerializer.Serialize(results, PlanOptions.JsonOut)); return 0; }
            var t = new Table().AddColumns("claim", "claimed", "from catalog", "holds", "derivation", "caveat");
            foreach (var r in results)
                t.AddRow(Markup.Escape(r.Claim), $"{r.Claimed:G4}", $"{r.Reproduced:G4}", r.ArithmeticHolds ? "yes" : "no", Markup.Escape(r.Derivation), Markup.Escape(r.Caveat));
            AnsiConsole.Write(t);
            return 0;
        });
        return command;
    }
}
