using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands;

internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var text = new Option<string>("--text") { Description = "Text to encode (special tokens written in it become their ids)", Required = true };
        var command = new Command("tokenize", "Print the token ids of a text, comma-separated on one line") { model, text };
        command.SetAction(parse =>
        {
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var tokenizer = loaded.Tokenizer ?? throw new UnsupportedModelException($"{loaded.Path}: the model has no tokenizer");
            Console.WriteLine(TokenIdList.Format(tokenizer.Encode(parse.GetValue(text)!)));
            return 0;
        });
        return command;
    }
}
