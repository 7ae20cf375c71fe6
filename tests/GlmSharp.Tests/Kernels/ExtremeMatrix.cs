using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q8_0 or Q4_0 weights written byte by byte with the extreme codes of the format (Q8_0: −128 or 127; Q4_0: nibble 0
/// or 15, i.e. −8 or 7) in a pseudo-random sign pattern, every block scale 1.
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

    public static ExtremeMatrix Create(GgmlType type, int outputs, int inputs) => new(type, outputs, inputs);

    /// <summary>Whether weight (row, column) holds the format's most negative code.</summary>
    public bool Negative(int row, int column) => _negative[row * _inputs + column];

    public void Dispose() => NativeMemory.Free(_data);
}
