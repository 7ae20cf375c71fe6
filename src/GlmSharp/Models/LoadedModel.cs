using GlmSharp.Configs;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Models;

/// <summary>A model ready to run, with what came with it: architecture, tokenizer, chat template, generation defaults.</summary>
public sealed class LoadedModel(CausalLm model, IArchitecture architecture, BpeTokenizer? tokenizer, GenerationConfig generation, string path) : IDisposable
{
    public CausalLm Model { get; } = model;

    /// <summary>Null for a GGUF written without a vocabulary (token ids only).</summary>
    public BpeTokenizer? Tokenizer { get; } = tokenizer;

    public IChatTemplate ChatTemplate { get; } = ChatTemplates.For(tokenizer?.Vocabulary.ChatTemplate);
    public IArchitecture Architecture { get; } = architecture;
    public GenerationConfig Generation { get; } = generation;
    public string Path { get; } = path;
    public ModelConfig Config => Model.Config;

    /// <summary>Every id that ends generation: the config's and the generation config's.</summary>
    public IReadOnlyList<int> StopTokenIds { get; } = model.Config.EosTokenIds.Concat(generation.EosTokenIds).Distinct().ToArray();

    public void Dispose() => Model.Dispose();
}
