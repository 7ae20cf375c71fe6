using System.CommandLine;

namespace GlmSharp.Cli.Commands.Plan;

/// <summary><c>glm plan</c>: predict what a deployment delivers, search layouts, validate the model, check vendor claims.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var plan = new Command("plan", "Capacity planner for GLM deployments on Ascend and NVIDIA systems");
        plan.Subcommands.Add(PredictCommand.Create());
        plan.Subcommands.Add(SearchCommand.Create());
        plan.Subcommands.Add(ValidateCommand.Create());
        plan.Subcommands.Add(CalibrateCommand.Create());
        plan.Subcommands.Add(ClaimsCommand.Create());
        plan.Subcommands.Add(ProbeCommand.Create());
        return plan;
    }
}
