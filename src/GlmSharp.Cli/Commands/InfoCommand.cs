using System.CommandLine;
using GlmSharp.Configs;

namespace GlmSharp.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face folder or .gguf file", Required = true };
        var command = new Command("info", "Architecture, parameter count, dtypes, context and tokenizer of a model") { model };
        command.SetAction(parse =>
        {
            var config = HfConfigLoader.Load(Path.Combine(parse.GetValue(model)!, "config.json"));
            Console.WriteLine(config);
            return 0;
        });
        return command;
    }
}
