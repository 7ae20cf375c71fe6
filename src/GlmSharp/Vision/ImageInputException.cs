using GlmSharp.Errors;

namespace GlmSharp.Vision;

/// <summary>An image file that cannot be used: missing, corrupt, truncated, of an unsupported format or outside the
/// size limits. The message names the file.</summary>
public sealed class ImageInputException(string message, Exception? inner = null) : GlmException(message, inner);
