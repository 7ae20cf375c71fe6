using GlmSharp.Inference;

namespace GlmSharp.Tests.Inference;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Text_That_Cannot_Start_A_Stop_String_Is_Released_At_Once()
    {
        var filter = new StopStringFilter(["###"]);
        Assert.Equal("hello ", filter.Push("hello "));
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void A_Possible_Prefix_Is_Held_Back_Until_It_Is_Decided()
    {
        var filter = new StopStringFilter(["END"]);
        Assert.Equal("the ", filter.Push("the E"));
        Assert.Equal("", filter.Push("N"));
        Assert.Equal("ENough", filter.Push("ough"));
    }

    [Fact]
    public void A_Stop_String_Split_Across_Tokens_Stops_And_Is_Not_Shown()
    {
        var filter = new StopStringFilter(["<|user|>"]);
        Assert.Equal("Answer.", filter.Push("Answer.<|us"));
        Assert.Equal("", filter.Push("er|> more"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("later"));
    }

    [Fact]
    public void The_Earliest_Of_Several_Stop_Strings_Wins()
    {
        var filter = new StopStringFilter(["b", "a"]);
        Assert.Equal("x", filter.Push("xab"));
    }

    [Fact]
    public void Flush_Releases_A_Held_Prefix_That_Never_Completed()
    {
        var filter = new StopStringFilter(["STOP"]);
        Assert.Equal("go ", filter.Push("go ST"));
        Assert.Equal("ST", filter.Flush());
    }
}
