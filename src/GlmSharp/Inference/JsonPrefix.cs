using System.Runtime.CompilerServices;

namespace GlmSharp.Inference;

/// <summary>
/// Whether bytes so far can begin one JSON object (RFC 8259), read one byte at a time: a small pushdown automaton
/// whose whole state is this struct, so trying a token's bytes on a copy costs no allocation. Whitespace may come
/// before the object and between its tokens (at most <see cref="MaxSpaces"/> bytes in a row, so that a model cannot
/// pad forever), not after it; nesting deeper than <see cref="MaxDepth"/> is refused.
/// Bytes of multi-byte characters are taken inside strings without checking their UTF-8 (the text decoder does).
/// </summary>
public struct JsonPrefix
{
    public const int MaxDepth = 32;
    public const int MaxSpaces = 20;

    [InlineArray(MaxDepth)]
    private struct Containers
    {
        private byte _first;
    }

    private enum Mode : byte
    {
        Start, ObjectFirst, ObjectNext, Colon, Value, ArrayFirst, After,
        String, Escape, Unicode,
        NumberSign, NumberZero, NumberInteger, FractionStart, Fraction, ExponentStart, ExponentSign, Exponent,
        Literal, Done,
    }

    private static readonly byte[][] Literals = ["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()];

    private Containers _containers;
    private int _depth;
    private Mode _mode;
    private bool _inKey;
    private int _literal, _position, _spaces;

    /// <summary>True once the object has closed: nothing more may follow.</summary>
    public readonly bool IsComplete => _mode == Mode.Done;

    /// <summary>Takes the next byte; false (leaving the state undefined) when no JSON object continues this way.</summary>
    public bool Push(byte b)
    {
        if (_mode is not (Mode.String or Mode.Escape or Mode.Unicode))
        {
            _spaces = IsSpace(b) ? _spaces + 1 : 0;
            if (_spaces > MaxSpaces) return false;
        }
        switch (_mode)
        {
            case Mode.Start:
                return IsSpace(b) || (b == '{' && Open(b));
            case Mode.ObjectFirst:
                return IsSpace(b) || (b == '"' && BeginString(key: true)) || (b == '}' && Close());
            case Mode.ObjectNext:
                return IsSpace(b) || (b == '"' && BeginString(key: true));
            case Mode.Colon:
                if (IsSpace(b)) return true;
                _mode = Mode.Value;
                return b == ':';
            case Mode.ArrayFirst:
                return b == ']' ? Close() : BeginValue(b);
            case Mode.Value:
                return BeginValue(b);
            case Mode.After:
                if (IsSpace(b)) return true;
                byte container = _containers[_depth - 1];
                if (b == ',')
                {
                    _mode = container == '{' ? Mode.ObjectNext : Mode.Value;
                    return true;
                }
                return (b == '}' && container == '{' || b == ']' && container == '[') && Close();
            case Mode.String:
                if (b == '"') _mode = _inKey ? Mode.Colon : Mode.After;
                else if (b == '\\') _mode = Mode.Escape;
                return b >= 0x20;
            case Mode.Escape:
                _mode = b == 'u' ? Mode.Unicode : Mode.String;
                _position = 0;
                return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' or (byte)'u';
            case Mode.Unicode:
                if (++_position == 4) _mode = Mode.String;
                return char.IsAsciiHexDigit((char)b);
            case Mode.NumberSign:
                _mode = b == '0' ? Mode.NumberZero : Mode.NumberInteger;
                return IsDigit(b);
            case Mode.NumberZero:
                return NumberPart(b) || EndNumber(b);
            case Mode.NumberInteger:
                return IsDigit(b) || NumberPart(b) || EndNumber(b);
            case Mode.FractionStart:
                _mode = Mode.Fraction;
                return IsDigit(b);
            case Mode.Fraction:
                if (IsDigit(b)) return true;
                if (b is (byte)'e' or (byte)'E') return Enter(Mode.ExponentStart);
                return EndNumber(b);
            case Mode.ExponentStart:
                if (b is (byte)'+' or (byte)'-') return Enter(Mode.ExponentSign);
                _mode = Mode.Exponent;
                return IsDigit(b);
            case Mode.ExponentSign:
                _mode = Mode.Exponent;
                return IsDigit(b);
            case Mode.Exponent:
                return IsDigit(b) || EndNumber(b);
            case Mode.Literal:
                var literal = Literals[_literal];
                if (b != literal[_position++]) return false;
                if (_position == literal.Length) _mode = Mode.After;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Takes every byte of <paramref name="bytes"/>; false as soon as one cannot follow.</summary>
    public bool Push(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (!Push(b)) return false;
        return true;
    }

    private bool BeginValue(byte b)
    {
        switch (b)
        {
            case (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r': return true;
            case (byte)'{' or (byte)'[': return Open(b);
            case (byte)'"': return BeginString(key: false);
            case (byte)'-': return Enter(Mode.NumberSign);
            case (byte)'0': return Enter(Mode.NumberZero);
            case >= (byte)'1' and <= (byte)'9': return Enter(Mode.NumberInteger);
            case (byte)'t' or (byte)'f' or (byte)'n':
                _literal = b == 't' ? 0 : b == 'f' ? 1 : 2;
                _position = 1;
                return Enter(Mode.Literal);
            default: return false;
        }
    }

    /// <summary>A fraction or exponent starting after the integer part.</summary>
    private bool NumberPart(byte b) =>
        b == '.' ? Enter(Mode.FractionStart) : b is (byte)'e' or (byte)'E' && Enter(Mode.ExponentStart);

    /// <summary>A number ends at the first byte that cannot extend it, which then counts as what follows the value.</summary>
    private bool EndNumber(byte b)
    {
        _mode = Mode.After;
        return Push(b);
    }

    private bool Open(byte container)
    {
        if (_depth == MaxDepth) return false;
        _containers[_depth++] = container;
        _mode = container == '{' ? Mode.ObjectFirst : Mode.ArrayFirst;
        return true;
    }

    private bool Close()
    {
        _mode = --_depth == 0 ? Mode.Done : Mode.After;
        return true;
    }

    private bool BeginString(bool key)
    {
        _inKey = key;
        return Enter(Mode.String);
    }

    private bool Enter(Mode mode)
    {
        _mode = mode;
        return true;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
