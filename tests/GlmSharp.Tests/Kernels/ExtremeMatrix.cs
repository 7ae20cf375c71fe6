using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Weights with the extreme codes of the format in a pseudo-random sign pattern, every block scale 1: Q8_0 and Q4_0
/// written byte by byte (Q8_0: −128 or 127; Q4_0: nibble 0 or 15, i.e. −8 or 7); Q4_1, Q5_0, Q5_1, IQ4_NL and MXFP4
/// encoded from the two ends of their range (codes 0 and 15 or 31; IQ4_NL's grid ends −127 and 113; E2M1's ±6), which their quantizers
/// map onto scale 1 exactly. Q4_K and Q5_K are written byte by byte with d = dmin = 1 and every 6-bit scale and min 63,
/// codes 0 or 15 (31). Q6_K likewise with d = 1, every int8 scale 127 and codes 0 or 63.
/// </summary>
internal sealed unsafe class ExtremeMatrix : IDisposable
{
    private readonly byte* _data;
    private readonly bool[] _negative;
    private readonly int _inputs;

    public TensorView View { get; }

    private ExtremeMatrix(GgmlType type, int outputs, int inputs)
    {
        _inputs = inputs;
        _negative = new bool[outputs * inputs];
        var random = new Random(11);
        for (int i = 0; i < _negative.Length; i++) _negative[i] = random.Next(2) == 0;
        long rowBytes = GgmlTypeInfo.RowByteSize(type, inputs);
        _data = (byte*)NativeMemory.AllocZeroed((nuint)(rowBytes * outputs));
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        if (type is GgmlType.Q4_K or GgmlType.Q5_K)
        {
            int codes = type == GgmlType.Q5_K ? 48 : 16;
            for (int o = 0; o < outputs; o++)
                for (int b = 0; b < inputs / Q5_K.BlockSize; b++)
                {
                    byte* block = _data + o * rowBytes + b * blockBytes;
                    *(Half*)block = *(Half*)(block + 2) = (Half)1;
                    new Span<byte>(block + 4, 12).Fill(0xff);
                    for (int e = 0; e < Q5_K.BlockSize; e++)
                    {
                        if (Negative(o, b * Q5_K.BlockSize + e)) continue;
                        int chunk = e / 64, l = e % 32, upper = e % 64 / 32;
                        block[codes + 32 * chunk + l] |= (byte)(0x0f << (4 * upper));
                        if (type == GgmlType.Q5_K) block[16 + l] |= (byte)(1 << (2 * chunk + upper));
                    }
                }
            View = new TensorView("extreme.weight", type, [outputs, inputs], _data, rowBytes * outputs, "test");
            return;
        }
        if (type == GgmlType.Q6_K)
        {
            for (int o = 0; o < outputs; o++)
                for (int b = 0; b < inputs / Q6_K.BlockSize; b++)
                {
                    byte* block = _data + o * rowBytes + b * blockBytes;
                    *(Half*)(block + 208) = (Half)1;
                    new Span<byte>(block + 192, 16).Fill(127);
                    for (int e = 0; e < Q6_K.BlockSize; e++)
                    {
                        if (Negative(o, b * Q6_K.BlockSize + e)) continue;
                        // dequantize_row_q6_K's layout: quarter q of a 128-value half in the low (q < 2) or high nibbles.
                        int half = e / 128, quarter = e % 128 / 32, l = e % 32;
                        block[64 * half + l + 32 * (quarter & 1)] |= (byte)(0x0f << (4 * (quarter >> 1)));
                        block[128 + 32 * half + l] |= (byte)(3 << (2 * quarter));
                    }
                }
            View = new TensorView("extreme.weight", type, [outputs, inputs], _data, rowBytes * outputs, "test");
            return;
        }
        if (type is not (GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            var (low, high) = RangeEnds(type);
            var values = new float[inputs];
            for (int o = 0; o < outputs; o++)
            {
                for (int k = 0; k < inputs; k++) values[k] = Negative(o, k) ? low : high;
                var row = new Span<byte>(_data + o * rowBytes, (int)rowBytes);
                TensorCodec.QuantizeRow(type, values, row);
                var decoded = new float[inputs];
                TensorCodec.DequantizeRow(type, row, decoded);
                if (!decoded.AsSpan().SequenceEqual(values))
                    throw new InvalidOperationException($"{type} does not encode its range ends exactly: the matrix would not be extreme");
            }
            View = new TensorView("extreme.weight", type, [outputs, inputs], _data, rowBytes * outputs, "test");
            return;
        }
        for (int o = 0; o < outputs; o++)
            for (int b = 0; b < inputs / 32; b++)
            {
                byte* block = _data + o * rowBytes + b * blockBytes;
                *(Half*)block = (Half)1;
                for (int j = 0; j < 32; j++)
                {
                    bool negative = Negative(o, b * 32 + j);
                    if (type == GgmlType.Q8_0) block[2 + j] = negative ? (byte)0x80 : (byte)127;
                    else block[2 + j % 16] |= (byte)((negative ? 0 : 15) << (j < 16 ? 0 : 4));
                }
            }
        View = new TensorView("extreme.weight", type, [outputs, inputs], _data, rowBytes * outputs, "test");
    }

    private static (float Low, float High) RangeEnds(GgmlType type) => type switch
    {
        GgmlType.Q4_1 => (-8f, 7f),
        GgmlType.Q5_0 or GgmlType.Q5_1 => (-16f, 15f),
        GgmlType.IQ4_NL => (-127f, 113f),
        GgmlType.MXFP4 => (-6f, 6f),
        _ => throw new ArgumentException($"no extreme matrix for {type}", nameof(type)),
    };

    public static ExtremeMatrix Create(GgmlType type, int outputs, int inputs) => new(type, outputs, inputs);

    /// <summary>Whether weight (row, column) holds the format's most negative code.</summary>
    public bool Negative(int row, int column) => _negative[row * _inputs + column];

    public void Dispose() => NativeMemory.Free(_data);
}
