using GlmSharp.Configs;

namespace GlmSharp.Models;

/// <summary>A model ready to run, with what came with it: its architecture and generation defaults.</summary>
public sealed class LoadedModel(CausalLm model, IArchitecture architecture, GenerationConfig generation, string path) : IDisposable
{
    public CausalLm Model { get; } = model;
    public IArchitecture Architecture { get; } = architecture;
    public GenerationConfig Generation { get; } = generation;
    public string Path { get; } = path;
    public ModelConfig Config => Model.Config;

    /// <summary>Every id that ends generation: the config's, the generation config's, deduplicated.</summary>
    public IReadOnlyList<int> StopTokenIds => Config.EosTokenIds.Concat(Generation.EosTokenIds).Distinct().ToArray();

    public void Dispose() => Model.Dispose();
}
