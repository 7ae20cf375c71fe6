using System.Text;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Fuzz;

/// <summary>One input the whole way, as a user would take it: open, read every tensor, load, tokenize a templated chat, generate.</summary>
internal static unsafe class Pipeline
{
    public const int GeneratedTokens = 3;

    /// <summary>One thread: the supervisor runs one worker per core, and a pool per worker would make them contend.</summary>
    public static readonly Kernels.Cpu.CpuBackend Backend = new(threads: 1);

    public static void Run(string modelPath, string chatText)
    {
        using var loaded = ModelLoader.Load(modelPath, Backend);
        ReadEveryTensor(loaded.Model.Weights);
        if (loaded.Tokenizer is not { } tokenizer) return;
        string prompt = loaded.ChatTemplate.Render([new ChatMessage(ChatRole.User, chatText)], new ChatTemplateOptions());
        var ids = tokenizer.Encode(prompt);
        tokenizer.Decode(ids);
        if (ids.Length == 0) return;
        using var generator = new Generator(loaded, contextLength: 96);
        var options = new GenerationOptions { MaxTokens = GeneratedTokens, Sampling = SamplingOptions.Defaults(loaded.Generation) with { Seed = 1 } };
        var stream = generator.GenerateAsync(ids, options).GetAsyncEnumerator();
        try
        {
            while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult()) { }
        }
        finally
        {
            stream.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void ReadEveryTensor(Formats.ITensorSource weights)
    {
        foreach (var name in weights.Names)
        {
            if (!weights.TryGet(name, out var tensor)) continue;
            var shape = tensor.Shape;
            if (shape.Length == 0) continue;
            long rows = shape.Length == 1 ? 1 : shape[..^1].Aggregate(1L, (a, b) => a * b);
            long width = shape[^1];
            var asMatrix = new TensorView(tensor.Name, tensor.Type, [rows, width], tensor.Data, tensor.ByteLength, tensor.Origin) { Scales = tensor.Scales };
            var row = new float[width];
            for (long r = 0; r < rows; r++) TensorRows.Decode(asMatrix, r, row);
        }
    }

    public static string ChatText(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
