using GlmSharp.Errors;
using LLama;
using LLama.Native;

namespace GlmSharp.LlamaCppBench;

/// <summary>
/// llama.cpp's own quantizer (llama_model_quantize, no importance matrix), for the types GlmSharp reads but does not
/// write: glm bench writes a model it can encode, then has llama.cpp requantize it with the mix llama-quantize
/// would choose, output tensor included.
/// </summary>
internal static class LlamaCppQuantize
{
    public static void Run(string source, string destination, string fileType, int threads)
    {
        if (!Enum.TryParse<LLamaFtype>(fileType, ignoreCase: true, out var type) || !Enum.IsDefined(type))
            throw new GlmException($"--ftype {fileType}: not a llama.cpp file type (e.g. MOSTLY_IQ4_XS)");
        NativeApi.llama_empty_call();
        if (!LLamaQuantizer.Quantize(source, destination, type, threads, allowRequantize: true, quantizeOutputTensor: true))
            throw new GlmException($"llama.cpp could not quantize {source} to {type}");
    }
}
