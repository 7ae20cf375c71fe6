using System.Buffers.Binary;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Blocks of the IQ types GlmSharp reads but does not write (llama.cpp writes IQ2_*/IQ1_* only from an importance
/// matrix): random bytes, since every bit pattern of their index, sign, shift and scale fields is a valid block, with
/// d chosen apart (first in every block but IQ1_M, which spreads it over the top nibbles of its four scale words).
/// </summary>
internal static class RandomIqBlocks
{
    /// <summary>The types whose values lie on lattice grids with signs (IQ2_*, IQ1_*), which share their tests.</summary>
    public static IReadOnlyList<GgmlType> LatticeTypes { get; } = [GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S, GgmlType.IQ1_S, GgmlType.IQ1_M];

    /// <summary>Random blocks whose d are fp16 bit patterns drawn by <paramref name="scaleBits"/>.</summary>
    public static byte[] Create(GgmlType type, long values, Random random, Func<Random, ushort> scaleBits)
    {
        var bytes = new byte[GgmlTypeInfo.RowByteSize(type, values)];
        random.NextBytes(bytes);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        for (int b = 0; b < bytes.Length / blockBytes; b++) SetScale(type, bytes.AsSpan(b * blockBytes, blockBytes), scaleBits(random));
        return bytes;
    }

    /// <summary>Random blocks whose values have about the given root mean square.</summary>
    public static byte[] WithRms(GgmlType type, long values, Random random, double rms)
    {
        // d = 1 gives the type's own spread of values; d then scales it (within ±25% per block).
        var unit = Create(type, 256 * 64, new Random(1), _ => 0x3C00);
        var decoded = new float[256 * 64];
        TensorCodec.DequantizeRow(type, unit, decoded);
        double unitRms = Math.Sqrt(decoded.Average(v => (double)v * v));
        return Create(type, values, random, r => Fp16.FromFloat((float)(rms / unitRms * (0.75 + 0.5 * r.NextDouble()))));
    }

    /// <summary>
    /// The GGUF <paramref name="writeF32"/> writes at a path, with its matrices (every tensor of two or more dimensions
    /// whose rows are whole blocks, but for the MoE router, which llama.cpp keeps in F32) replaced by random
    /// <paramref name="type"/> blocks of the same root mean square.
    /// </summary>
    public static unsafe string WriteModel(Func<string, string> writeF32, string path, GgmlType type, int seed)
    {
        string f32 = writeF32(path + ".f32");
        var random = new Random(seed);
        GgufRewrite.WithTensors(f32, path, (info, view) =>
        {
            if (info.Ne.Length < 2 || info.Ne[0] % 256 != 0 || info.Name.Contains("ffn_gate_inp", StringComparison.Ordinal)) return null;
            var values = new ReadOnlySpan<float>(view.Data, checked((int)(view.ByteLength / sizeof(float))));
            double rms = 0;
            foreach (float v in values) rms += (double)v * v;
            return (type, WithRms(type, values.Length, random, Math.Sqrt(rms / values.Length)));
        });
        File.Delete(f32);
        return path;
    }

    /// <summary>Any finite fp16, of either sign (0x7C00 and up are infinities and NaNs).</summary>
    public static ushort AnyFiniteScale(Random random) => (ushort)(random.Next(0x7C00) | random.Next(2) << 15);

    public static void SetScale(GgmlType type, Span<byte> block, ushort bits)
    {
        if (type != GgmlType.IQ1_M)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(block, bits);
            return;
        }
        for (int k = 0; k < 4; k++)
        {
            var word = block.Slice(Iq1M.ScalesOffset + 2 * k, 2);
            BinaryPrimitives.WriteUInt16LittleEndian(word, (ushort)((BinaryPrimitives.ReadUInt16LittleEndian(word) & 0x0fff) | ((bits >> (4 * k)) & 0xf) << 12));
        }
    }
}
