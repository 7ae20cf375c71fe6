using System.CommandLine;
using System.Text.Json;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.LlamaCppBench;
using LLama.Exceptions;

var model = new Option<string>("--model") { Description = "GGUF file to run", Required = true };
var options = new RunOptions();
var root = new RootCommand("One timed llama.cpp run as glm bench runs it; prints prefill and decode tok/s (all sequences together), load s and peak RSS MB as JSON");
root.Options.Add(model);
foreach (var option in options.All) root.Options.Add(option);
root.Subcommands.Add(QuantizeCommand());
root.Subcommands.Add(VisionCommand());
root.SetAction(parse =>
{
    var run = options.Read(parse);
    string path = parse.GetValue(model)!;
    if (!File.Exists(path)) throw new GlmException($"{path}: no such file");
    Console.WriteLine(JsonSerializer.Serialize(LlamaCppRun.Run(path, run)));
    return 0;
});

static Command QuantizeCommand()
{
    var source = new Option<string>("--in") { Description = "GGUF file to requantize", Required = true };
    var destination = new Option<string>("--out") { Description = "GGUF file to write", Required = true };
    var fileType = new Option<string>("--ftype") { Description = "llama.cpp file type, e.g. MOSTLY_IQ4_XS", Required = true };
    var threads = new Option<int>("--threads") { Description = "quantizer threads", DefaultValueFactory = _ => Environment.ProcessorCount };
    var command = new Command("quantize", "Requantize a GGUF with llama.cpp's quantizer (no importance matrix) into the mix of a file type") { source, destination, fileType, threads };
    command.SetAction(parse =>
    {
        string path = parse.GetValue(source)!;
        if (!File.Exists(path)) throw new GlmException($"{path}: no such file");
        LlamaCppQuantize.Run(path, parse.GetValue(destination)!, parse.GetValue(fileType)!, parse.GetValue(threads));
        return 0;
    });
    return command;
}

static Command VisionCommand()
{
    var mmproj = new Option<string>("--mmproj") { Description = "glm4v mmproj GGUF to encode with", Required = true };
    var textModel = new Option<string>("--text-model") { Description = "text GGUF whose width matches the mmproj's projection (mtmd needs one to initialise)", Required = true };
    var threads = new Option<int>("--threads") { Description = "compute threads", DefaultValueFactory = _ => Environment.ProcessorCount };
    var vision = new VisionRunOptions();
    var command = new Command("vision", "One timed image encode through libmtmd as glm bench --vision runs it; prints encode and pre-processing ms and the token grid as JSON")
    {
        mmproj, textModel, threads,
    };
    foreach (var option in vision.All) command.Options.Add(option);
    command.SetAction(parse =>
    {
        foreach (var file in new[] { parse.GetValue(mmproj)!, parse.GetValue(textModel)! })
            if (!File.Exists(file)) throw new GlmException($"{file}: no such file");
        if (parse.GetValue(threads) is var count and < 1) throw new GlmException($"--threads {count}: must be at least 1");
        var run = vision.Read(parse, parse.GetValue(threads));
        Console.WriteLine(JsonSerializer.Serialize(LlamaCppVisionRun.Run(parse.GetValue(mmproj)!, parse.GetValue(textModel)!, run)));
        return 0;
    });
    return command;
}

try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is GlmException or IOException or RuntimeError)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
