namespace GlmSharp.Planner.Catalog;

/// <summary>Number format of weights and GEMM inputs. Attention and KV default to BF16 unless stated.</summary>
public enum Precision { Bf16, Fp8, Int8, Fp4 }

public static class Precisions
{
    public static Precision Parse(string text, string origin) => text.Trim().ToLowerInvariant() switch
    {
        "bf16" or "fp16" => Precision.Bf16,
        "fp8" => Precision.Fp8,
        "int8" or "w8a8" => Precision.Int8,
        "fp4" or "nvfp4" or "mxfp4" => Precision.Fp4,
        _ => throw new CatalogFormatException($"{origin}: precision '{text}' is not one of bf16, fp8, int8, fp4"),
    };

    public static string Name(this Precision p) => p.ToString().ToLowerInvariant();

    /// <summary>Bytes per stored weight, including the block scales that FP4 formats carry (one byte per 16 values).</summary>
    public static double WeightBytes(this Precision p) => p switch
    {
        Precision.Bf16 => 2.0,
        Precision.Fp8 or Precision.Int8 => 1.0,
        Precision.Fp4 => 0.5 + 1.0 / 16,
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    /// <summary>Bytes per activation element sent in expert dispatch: quantised formats dispatch 8-bit, BF16 sends BF16.</summary>
    public static double DispatchBytes(this Precision p) => p == Precision.Bf16 ? 2.0 : 1.0;
}
