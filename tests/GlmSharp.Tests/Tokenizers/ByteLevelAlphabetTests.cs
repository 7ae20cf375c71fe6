using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class ByteLevelAlphabetTests
{
    [Fact]
    public void Space_And_Newline_Map_To_Gpt2_Characters()
    {
        // GPT-2's table: the 68 non-printable bytes map to U+0100.. in byte order; space is the 33rd of them.
        Assert.Equal('Ġ', ByteLevelAlphabet.CharOf((byte)' '));
        Assert.Equal('Ċ', ByteLevelAlphabet.CharOf((byte)'\n'));
        Assert.Equal('Ā', ByteLevelAlphabet.CharOf(0));
        Assert.Equal('a', ByteLevelAlphabet.CharOf((byte)'a'));
        Assert.Equal('Ń', ByteLevelAlphabet.CharOf(0xAD)); // soft hyphen, the last of the 68
    }

    [Fact]
    public void Mapping_Is_A_Bijection_Over_All_Bytes()
    {
        var chars = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.CharOf((byte)b)).ToArray();
        Assert.Equal(256, chars.Distinct().Count());
        for (int b = 0; b < 256; b++) Assert.Equal(b, ByteLevelAlphabet.ByteOf(chars[b]));
        Assert.Equal(-1, ByteLevelAlphabet.ByteOf(' '));
        Assert.Null(ByteLevelAlphabet.TryDecode("a b"));
    }
}
