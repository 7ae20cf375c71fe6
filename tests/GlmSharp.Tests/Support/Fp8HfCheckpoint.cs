using System.Text.Json.Nodes;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Writes a random checkpoint (dense or mixture-of-experts) as a Hugging Face FP8 checkpoint the way FP8 releases ship: every
/// decoder-layer Linear as F8_E4M3 <c>weight</c> plus <c>weight_scale_inv</c> (one scale per block, amax/448),
/// everything else F32, and config.json's quantization_config. Codes come from <see cref="E4M3Definition"/>.
/// </summary>
public sealed class Fp8HfCheckpoint(IRandomCheckpoint source, int blockRows = 128, int blockColumns = 128)
{
    public SafetensorsDtype ScaleType { get; init; } = SafetensorsDtype.F32;

    /// <summary>A weight written without its scale tensor (bad-input tests).</summary>
    public string? OmitScaleOf { get; init; }

    /// <summary>A weight whose scale tensor gets one column too many (bad-input tests).</summary>
    public string? MisshapeScaleOf { get; init; }

    public bool WriteQuantizationConfig { get; init; } = true;

    /// <summary>The real weights the checkpoint holds (stored value × scale, by the OCP definition), per quantized tensor.</summary>
    public Dictionary<string, float[]> Dequantized { get; } = new();

    public static bool IsQuantized(string name) => name.StartsWith("model.layers.", StringComparison.Ordinal)
        && (name.EndsWith("_proj.weight", StringComparison.Ordinal) || name.EndsWith(".indexer.wq_b.weight", StringComparison.Ordinal)
            || name.EndsWith(".indexer.wk.weight", StringComparison.Ordinal));

    public string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var config = JsonNode.Parse(source.ConfigJsonText())!.AsObject();
        if (WriteQuantizationConfig)
            config["quantization_config"] = new JsonObject
            {
                ["quant_method"] = "fp8", ["fmt"] = "e4m3", ["activation_scheme"] = "dynamic",
                ["weight_block_size"] = new JsonArray(blockRows, blockColumns),
            };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in source.Tensors)
        {
            if (!IsQuantized(name))
            {
                writer.AddFloats(name, SafetensorsDtype.F32, shape, values);
                continue;
            }
            var (codes, scales, real) = Quantize(values, (int)shape[0], (int)shape[1]);
            Dequantized[name] = real;
            writer.Add(name, SafetensorsDtype.F8_E4M3, shape, codes);
            if (name == OmitScaleOf) continue;
            long[] scaleShape = [Blocks((int)shape[0], blockRows), Blocks((int)shape[1], blockColumns) + (name == MisshapeScaleOf ? 1 : 0)];
            var scaleValues = new float[scaleShape[0] * scaleShape[1]];
            for (int r = 0; r < scaleShape[0]; r++)
                for (int c = 0; c < Math.Min(scaleShape[1], Blocks((int)shape[1], blockColumns)); c++)
                    scaleValues[r * scaleShape[1] + c] = scales[r * Blocks((int)shape[1], blockColumns) + c];
            writer.AddFloats(name + "_scale_inv", ScaleType, scaleShape, scaleValues);
        }
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }

    private static int Blocks(int length, int block) => (length + block - 1) / block;

    private (byte[] Codes, float[] Scales, float[] Real) Quantize(float[] values, int rows, int columns)
    {
        int scaleColumns = Blocks(columns, blockColumns);
        var scales = new float[Blocks(rows, blockRows) * scaleColumns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                ref float s = ref scales[r / blockRows * scaleColumns + c / blockColumns];
                s = Math.Max(s, Math.Abs(values[r * columns + c]) / 448f);
            }
        for (int i = 0; i < scales.Length; i++)
        {
            if (scales[i] == 0) scales[i] = 1;
            if (ScaleType == SafetensorsDtype.BF16) scales[i] = Bf16Round(scales[i]);
        }
        var codes = new byte[values.Length];
        var real = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                float scale = scales[r / blockRows * scaleColumns + c / blockColumns];
                int i = r * columns + c;
                codes[i] = E4M3Definition.Nearest(Math.Clamp(values[i] / scale, -448, 448));
                real[i] = (float)(E4M3Definition.Value(codes[i]) * scale);
            }
        return (codes, scales, real);
    }

    // Round to nearest even at bit 16: how a BF16 scale is stored.
    private static float Bf16Round(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        return BitConverter.UInt32BitsToSingle((u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u);
    }
}
