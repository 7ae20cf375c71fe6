using System.CommandLine;
using System.Runtime.InteropServices;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var ids = TokenIdList.Option("Comma-separated token ids", required: true);
        var cacheType = CommonOptions.CacheType();
        var output = new Option<string>("--out") { Description = "File to write: float32 little-endian, row-major [n_tokens, vocab]", Required = true }.WritableFile();
        var command = new Command("logits", "Write the logits of every position of a token sequence to a file") { model, ids, output, cacheType };
        command.SetAction(parse =>
        {
            var tokens = parse.GetValue(ids)!;
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            using var session = loaded.Model.CreateSession(Math.Min(loaded.Config.MaxPositions, Math.Max(tokens.Length, 1)), cacheType: cache);
            var logits = new float[tokens.Length * loaded.Config.VocabSize];
            loaded.Model.Forward(tokens, session, logits, LogitsFor.AllTokens);
            File.WriteAllBytes(parse.GetValue(output)!, MemoryMarshal.AsBytes(logits.AsSpan()).ToArray());
            Console.Error.WriteLine($"wrote {tokens.Length}×{loaded.Config.VocabSize} logits to {parse.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
