using System.CommandLine;
using GlmSharp.Imaging;
using GlmSharp.Models;
using GlmSharp.Vision;

namespace GlmSharp.Cli;

/// <summary>The vision tower option `generate` and `chat` share, and the one way both turn image files into prompt rows.</summary>
internal static class ImageOptions
{
    public static Option<string?> Mmproj() => new Option<string?>("--mmproj")
    {
        Description = "llama.cpp glm4v mmproj GGUF: the vision tower for images (its images are pre-processed as llama.cpp's mtmd does); " +
            "a glm4v Hugging Face folder brings its own",
    }.ExistingFile();

    /// <summary>Decodes and encodes one image file; the error for a missing or corrupt file names it.</summary>
    public static EncodedImage Encode(ImageEncoder encoder, string path) => encoder.Encode(ImageDecoder.DecodeFile(path), path);
}
