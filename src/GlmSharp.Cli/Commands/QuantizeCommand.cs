using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Models;
using Spectre.Console;

namespace GlmSharp.Cli.Commands;

internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "Hugging Face model folder or GGUF file" }.ExistingFileOrFolder();
        var output = new Argument<string>("OUT.gguf") { Description = "GGUF file to write" }.WritableFile();
        var type = new Option<string>("--type")
        {
            Description = "Element type of the matrices, or q4_k_m for llama.cpp's mix (Q4_K, Q6_K for the output and "
                + "some attn_v / ffn_down). Norms and biases stay f32. Rows that K-quant blocks do not tile fall back as in "
                + "llama.cpp: q2_k and q3_k to iq4_nl, q4_k to q5_0, q6_k to q8_0, then f16; other types to f16. A fused attn_qkv is written as attn_q, attn_k "
                + "and attn_v, each with its rows of the fused tensor.",
            Required = true,
        }.OneOf(QuantizationScheme.Names);
        var command = new Command("quantize", "Write a model as a GGUF of the given type, with tensors byte for byte as llama.cpp's quantizer writes them")
        {
            input, output, type,
        };
        command.SetAction(parse =>
        {
            var scheme = QuantizationScheme.Parse(parse.GetValue(type)!);
            string inPath = parse.GetValue(input)!;
            string outPath = parse.GetValue(output)!;
            // The input stays memory-mapped while the output is written; truncating it underneath would crash the read.
            if (string.Equals(Path.GetFullPath(inPath), Path.GetFullPath(outPath), StringComparison.Ordinal))
                throw new GlmException($"{outPath}: the output would overwrite the input; write it to another path");
            using var loaded = ModelLoader.Load(inPath);
            string name = Path.GetFileNameWithoutExtension(Path.GetFullPath(inPath).TrimEnd('/'));
            Write(loaded, outPath, scheme, name);
            Console.Error.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1e6:F1} MB, {scheme.Name})");
            return 0;
        });
        return command;
    }

    private static void Write(LoadedModel loaded, string outPath, QuantizationScheme scheme, string name)
    {
        void Export(Action<ExportProgress> progress) => GgufExporter.Write(loaded.Architecture, loaded.Config, loaded.Model.Weights,
            loaded.Tokenizer?.Vocabulary, outPath, scheme, name, progress);

        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            Export(p => Console.Error.WriteLine($"[{p.TensorsDone}/{p.TensorCount}] {p.TensorName} {p.TensorType}"));
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn())
            .Start(context =>
            {
                var task = context.AddTask("starting", maxValue: 1);
                Export(p =>
                {
                    task.MaxValue = p.TotalBytes;
                    task.Value = p.BytesWritten;
                    task.Description = Markup.Escape($"[{p.TensorsDone}/{p.TensorCount}] {p.TensorName} {p.TensorType}");
                });
            });
    }
}
