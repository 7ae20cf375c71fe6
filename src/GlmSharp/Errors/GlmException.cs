namespace GlmSharp.Errors;

/// <summary>Base of every error GlmSharp raises on purpose; the message is meant for the user.</summary>
public class GlmException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A model file (GGUF, safetensors, config.json, tokenizer.json) is corrupt, truncated or inconsistent.
/// The message names the file and the tensor or field, and the expected versus the found value.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : GlmException(message, inner);

/// <summary>The checkpoint is well formed but declares an architecture or data type GlmSharp does not run.</summary>
public sealed class UnsupportedModelException(string message) : GlmException(message);

/// <summary>A request does not fit the model: prompt longer than the context, token id outside the vocabulary.</summary>
public sealed class ContextLimitException(string message) : GlmException(message);

/// <summary>The KV cache pool has no room for a step: nothing of the step was run, and every sequence is as it was.</summary>
public sealed class KvCacheFullException(string message) : GlmException(message);
