using System.CommandLine;
using GlmSharp.Cli;
using GlmSharp.Cli.Commands;

var root = new RootCommand("glm — run, inspect, convert and plan GLM models");
root.Options.Add(CommonOptions.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

return await CliRunner.InvokeAsync(root, args);
