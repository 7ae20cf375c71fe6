using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Tensors;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// The matrix type of a <c>--synthetic</c> model: one GlmSharp's writer encodes, or an importance-free IQ mix that
/// only llama.cpp's quantizer writes, which is then made from a Q8_0 file of the same weights
/// (<see cref="LlamaCppFileType"/> names llama.cpp's file type; the Q8_0 source is requantized and deleted).
/// </summary>
internal sealed record SyntheticType(string Name, QuantizationScheme Written, string? LlamaCppFileType)
{
    /// <summary>llama.cpp's IQ mixes that need no importance matrix (its IQ2 and IQ1 types refuse to quantize without one).</summary>
    private static readonly Dictionary<string, string> LlamaCppOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        ["iq4_xs"] = "MOSTLY_IQ4_XS",
        ["iq3_m"] = "MOSTLY_IQ3_M",
        ["iq3_s"] = "MOSTLY_IQ3_S",
        ["iq3_xxs"] = "MOSTLY_IQ3_XXS",
    };

    public static IEnumerable<string> Names => QuantizationScheme.Names.Concat(LlamaCppOnly.Keys);

    public static SyntheticType Parse(string name)
    {
        if (LlamaCppOnly.TryGetValue(name, out var fileType))
            return new SyntheticType(name.ToLowerInvariant(), QuantizationScheme.Uniform(GgmlType.Q8_0), fileType);
        try
        {
            var scheme = QuantizationScheme.Parse(name);
            return new SyntheticType(scheme.Name, scheme, null);
        }
        catch (UnsupportedModelException)
        {
            throw new GlmException($"--type: unknown synthetic model type '{name}'; known: {string.Join(", ", Names)}");
        }
    }
}
