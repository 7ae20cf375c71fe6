using GlmSharp.Errors;

namespace GlmSharp.Vision;

/// <summary>An image or video file that cannot be used: missing, corrupt, truncated, of an unsupported format or outside
/// the size limits (or a video whose decoder, ffmpeg, is missing). The message names the file.</summary>
public sealed class ImageInputException(string message, Exception? inner = null) : GlmException(message, inner);
