using System.CommandLine;
using GlmSharp.Cli;
using GlmSharp.Cli.Commands;

var root = new RootCommand("glm — run, inspect, convert and plan GLM models");
root.Options.Add(CommonOptions.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(LogitsCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());

return await CliRunner.InvokeAsync(root, args);
