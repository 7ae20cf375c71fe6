namespace GlmSharp.Models;

/// <summary>The same tensor as Hugging Face and llama.cpp name it.</summary>
public readonly record struct TensorNamePair(string HfName, string GgufName);
