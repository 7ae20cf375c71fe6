namespace GlmSharp.Tests.Support;

/// <summary>A random-weight checkpoint under Hugging Face names, with the config.json it is written with.</summary>
public interface IRandomCheckpoint
{
    IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors { get; }
    string ConfigJsonText();
}
