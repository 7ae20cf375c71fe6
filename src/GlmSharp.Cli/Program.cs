using System.CommandLine;
using GlmSharp.Cli;
using GlmSharp.Cli.Commands;
using GlmSharp.Cli.Commands.Plan;

var root = new RootCommand("glm — run, inspect, convert and plan GLM models");
root.Options.Add(CommonOptions.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(LogitsCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(QuantizeCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(ServeCommand.Create());

return await CliRunner.InvokeAsync(root, args);
