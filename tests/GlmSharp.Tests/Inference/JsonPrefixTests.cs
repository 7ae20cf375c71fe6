using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GlmSharp.Inference;

namespace GlmSharp.Tests.Inference;

/// <summary>The JSON-object automaton against the grammar: what it takes, where it refuses, and every serialized object.</summary>
public sealed class JsonPrefixTests
{
    /// <summary>Index of the first byte refused, or −1 when all are taken; whether the object closed at the end.</summary>
    private static (int Refused, bool Complete) Read(string text)
    {
        var prefix = new JsonPrefix();
        var bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < bytes.Length; i++)
            if (!prefix.Push(bytes[i])) return (i, false);
        return (-1, prefix.IsComplete);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData(" \n{ }")]
    [InlineData("""{"a": [1, -2.5e+3, 0.25, 7E-2, true, false, null, "x\"\u00e9\\/\n"], "b": {"c": {}, "d": []}, "é": "日本"}""")]
    public void A_Whole_Object_Is_Taken_And_Complete_At_Its_Last_Byte(string text)
    {
        Assert.Equal((-1, true), Read(text));
        Assert.Equal((-1, false), Read(text[..^1]));
    }

    [Theory]
    [InlineData("[1]", 0)]
    [InlineData("\"text\"", 0)]
    [InlineData("""{"a":1,}""", 7)]
    [InlineData("""{"a":01}""", 6)]
    [InlineData("""{"a":tru e}""", 8)]
    [InlineData("{a:1}", 1)]
    [InlineData("""{"a" 1}""", 5)]
    [InlineData("{\"a\":\"\u0001\"}", 6)]
    [InlineData("""{"a":"\q"}""", 7)]
    [InlineData("""{"a":"\u12G4"}""", 10)]
    [InlineData("""{"a":1.}""", 7)]
    [InlineData("""{"a":-}""", 6)]
    [InlineData("""{"a":1e}""", 7)]
    [InlineData("""{"a":[1}""", 7)]
    [InlineData("""{"a":1}}""", 7)]
    [InlineData("""{"a":1} """, 7)]
    public void A_Byte_That_Cannot_Continue_An_Object_Is_Refused_Where_It_Stands(string text, int refusedAt) =>
        Assert.Equal(refusedAt, Read(text).Refused);

    [Fact]
    public void Whitespace_Between_Tokens_Is_Limited_But_Not_Inside_Strings()
    {
        Assert.Equal(-1, Read("{" + new string(' ', JsonPrefix.MaxSpaces) + "\"a\"" + new string('\n', JsonPrefix.MaxSpaces) + ":1}").Refused);
        Assert.Equal(1 + JsonPrefix.MaxSpaces, Read("{" + new string(' ', JsonPrefix.MaxSpaces + 1)).Refused);
        Assert.Equal(-1, Read("{\"a\":\"" + new string(' ', 100)).Refused);
    }

    [Fact]
    public void Nesting_Deeper_Than_The_Limit_Is_Refused()
    {
        string deep = "{\"a\":" + new string('[', JsonPrefix.MaxDepth - 1);
        Assert.Equal(-1, Read(deep).Refused);
        Assert.Equal(deep.Length, Read(deep + "[").Refused);
    }

    private static Gen<JsonNode?> Values(int depth) => depth == 0
        ? Scalars()
        : Gen.OneOf(Scalars(), Objects(depth - 1).Select(o => (JsonNode?)o), Values(depth - 1).ListOf().Select(items => (JsonNode?)new JsonArray([.. items])));

    private static Gen<JsonNode?> Scalars() => Gen.OneOf(
        ArbMap.Default.GeneratorFor<int>().Select(i => (JsonNode?)JsonValue.Create(i)),
        ArbMap.Default.GeneratorFor<NormalFloat>().Select(f => (JsonNode?)JsonValue.Create(f.Get)),
        ArbMap.Default.GeneratorFor<string>().Where(s => s is not null).Select(s => (JsonNode?)JsonValue.Create(s)),
        // A node has one parent: every literal is made afresh.
        Gen.Choose(0, 2).Select(i => i == 2 ? null : (JsonNode?)JsonValue.Create(i == 1)));

    private static Gen<JsonObject> Objects(int depth) =>
        from keys in ArbMap.Default.GeneratorFor<string>().Where(s => s is not null).ListOf()
        from values in Values(depth).ListOf(keys.Distinct().Count())
        select new JsonObject(keys.Distinct().Zip(values, (k, v) => KeyValuePair.Create<string, JsonNode?>(k, v)));

    [Property(MaxTest = 200)]
    public Property Every_Serialized_Object_Is_Taken_Whole_And_Closes_Only_At_Its_End() =>
        Prop.ForAll(Objects(2).ToArbitrary(), ArbMap.Default.ArbFor<bool>(), (json, indented) =>
        {
            string text = json.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });
            return Read(text) == (-1, true) && Read(text[..^1]) == (-1, false);
        });
}
