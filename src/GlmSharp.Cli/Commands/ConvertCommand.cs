using System.CommandLine;
using GlmSharp.Models;
using GlmSharp.Tensors;

namespace GlmSharp.Cli.Commands;

internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("HF_FOLDER") { Description = "Hugging Face model folder (config.json, safetensors, tokenizer.json)" }.ExistingFolder();
        var output = new Argument<string>("OUT.gguf") { Description = "GGUF file to write" }.WritableFile();
        var type = new Option<string>("--type")
        {
            Description = "Element type of the weight matrices (norms and biases stay f32; q8_0 falls back to f16 for rows not divisible by 32). " +
                "Default: q8_0 for an FP8 checkpoint, f16 otherwise",
        }.OneOf(["f32", "f16", "bf16", "q8_0"]);
        var command = new Command("convert", "Convert a Hugging Face checkpoint to a GGUF file that llama.cpp runs too") { input, output, type };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(input)!;
            using var loaded = ModelLoader.Load(folder);
            var target = parse.GetValue(type) is { } named
                ? Enum.Parse<GgmlType>(named, ignoreCase: true)
                : GgufExporter.DefaultMatrixType(loaded.Model.Weights);
            string outPath = parse.GetValue(output)!;
            GgufExporter.Write(loaded.Architecture, loaded.Config, loaded.Model.Weights, loaded.Tokenizer?.Vocabulary, outPath, target,
                Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')),
                p => Console.Error.Write($"\r[{p.TensorsDone}/{p.TensorCount}] {p.TensorName,-48}"));
            Console.Error.WriteLine($"\rwrote {outPath} ({new FileInfo(outPath).Length / 1e6:F1} MB, {target})".PadRight(64));
            return 0;
        });
        return command;
    }
}
