using System.Text;
using System.Text.Json.Nodes;

namespace GlmSharp.Fuzz;

/// <summary>
/// Deterministic mutants: input i of a target is a function of (seed, target, i), so a finding is reproduced from its
/// number alone. Binary files are hit mostly in their structured prefix (where every byte means something), JSON both
/// as a tree (values swapped for boundary numbers, other types, invalid text) and as bytes.
/// </summary>
internal static class Mutator
{
    private static readonly long[] Boundaries =
        [0, 1, -1, 2, 3, 7, 8, 31, 32, 255, 256, 4095, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 31, 1L << 32, long.MaxValue, long.MinValue, 1L << 40];

    private static readonly string[] OddStrings =
        ["", "\\ud800", "\\udfff", "\\ud800\\u0041", "\\u0000", "<|user|>", "<|endoftext|>", "[gMASK]<sop>", "{{", "{% for %}", "a\\\"b"];

    /// <summary>A generator seeded the same in every process (string.GetHashCode and HashCode are randomized per process).</summary>
    public static Random RandomFor(int seed, Target target, long index)
    {
        ulong h = (ulong)(uint)seed;
        foreach (char c in target.Name) h = Mix(h ^ c);
        return new Random((int)Mix(h ^ (ulong)index));
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    public static byte[] Mutate(byte[] seed, InputKind kind, long structuredBytes, Random random) => kind switch
    {
        InputKind.Binary => MutateBinary(seed, structuredBytes, random),
        InputKind.Json => MutateJson(seed, random),
        _ => MutateText(seed, random),
    };

    private static byte[] MutateBinary(byte[] seed, long structuredBytes, Random random)
    {
        var bytes = (byte[])seed.Clone();
        int header = (int)Math.Clamp(structuredBytes, 16, bytes.Length);
        if (header > 16 && random.Next(4) == 0 && Safetensors.TryMutateHeader(bytes, random, MutateJson) is { } rewritten) return rewritten;
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++) bytes = Edit(bytes, random.Next(10) < 8 ? header : bytes.Length, random);
        return bytes;
    }

    private static byte[] Edit(byte[] bytes, int span, Random random)
    {
        if (bytes.Length == 0) return [(byte)random.Next(256)];
        span = Math.Min(span, bytes.Length);
        int at = random.Next(span);
        switch (random.Next(8))
        {
            case 0: bytes[at] ^= (byte)(1 << random.Next(8)); return bytes;
            case 1: bytes[at] = (byte)random.Next(256); return bytes;
            case 2:
            case 3:
                {
                    int width = random.Next(2) == 0 ? 4 : 8;
                    at &= ~(width - 1);
                    long value = Boundaries[random.Next(Boundaries.Length)] + random.Next(3) - 1;
                    for (int b = 0; b < width && at + b < bytes.Length; b++) bytes[at + b] = (byte)(value >> (8 * b));
                    return bytes;
                }
            case 4: return bytes[..at];
            case 5:
                {
                    int length = Math.Min(1 + random.Next(64), bytes.Length - at);
                    return [.. bytes[..at], .. bytes[(at + length)..]];
                }
            case 6:
                {
                    int length = Math.Min(1 + random.Next(64), bytes.Length - at);
                    return [.. bytes[..(at + length)], .. bytes[at..]];
                }
            default:
                {
                    var inserted = new byte[1 + random.Next(16)];
                    random.NextBytes(inserted);
                    return [.. bytes[..at], .. inserted, .. bytes[at..]];
                }
        }
    }

    public static byte[] MutateJson(byte[] seed, Random random)
    {
        string text = Encoding.UTF8.GetString(seed);
        if (random.Next(3) > 0 && JsonNode.Parse(text) is { } root)
        {
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++) EditTree(root, random);
            text = root.ToJsonString();
        }
        if (random.Next(3) == 0) text = InjectIntoString(text, OddStrings[random.Next(OddStrings.Length)], random);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (random.Next(4) == 0) bytes = InvalidUtf8(bytes, random);
        if (random.Next(6) == 0) bytes = Edit(bytes, bytes.Length, random);
        return bytes;
    }

    private static void EditTree(JsonNode root, Random random)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var node = nodes[random.Next(nodes.Count)];
        var parent = node.Parent;
        if (parent is null) return;
        JsonNode? replacement = random.Next(7) switch
        {
            0 => JsonValue.Create(Boundaries[random.Next(Boundaries.Length)]),
            1 => JsonValue.Create(random.Next(2) == 0 ? -0.0 : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-5, 310))),
            2 => JsonValue.Create(random.Next(2) == 0 ? "x" : new string('a', random.Next(1, 5000))),
            3 => null,
            4 => random.Next(2) == 0 ? new JsonArray() : new JsonObject(),
            5 => JsonValue.Create(random.Next(2) == 0),
            _ => new JsonArray(JsonValue.Create(Boundaries[random.Next(Boundaries.Length)]), JsonValue.Create("y")),
        };
        switch (parent)
        {
            case JsonObject obj:
                string key = obj.First(p => ReferenceEquals(p.Value, node)).Key;
                if (random.Next(5) == 0) obj.Remove(key);
                else obj[key] = replacement;
                break;
            case JsonArray array:
                int index = array.IndexOf(node);
                if (random.Next(5) == 0) array.RemoveAt(index);
                else array[index] = replacement;
                break;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        if (nodes.Count > 4000) return;
        nodes.Add(node);
        if (node is JsonObject obj) foreach (var (_, child) in obj) { if (child is not null) Collect(child, nodes); }
        else if (node is JsonArray array) foreach (var child in array) { if (child is not null) Collect(child, nodes); }
    }

    /// <summary>Raw text placed inside a random string of the document (escapes stay escapes, so "\ud800" is an unpaired surrogate).</summary>
    private static string InjectIntoString(string text, string raw, Random random)
    {
        var quotes = new List<int>();
        for (int i = 1; i < text.Length; i++) if (text[i] == '"' && text[i - 1] != '\\') quotes.Add(i);
        if (quotes.Count == 0) return text;
        int at = quotes[random.Next(quotes.Count)];
        return text[..at] + raw + text[at..];
    }

    private static byte[] InvalidUtf8(byte[] bytes, Random random)
    {
        byte[][] invalid = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]];
        int at = random.Next(bytes.Length + 1);
        return [.. bytes[..at], .. invalid[random.Next(invalid.Length)], .. bytes[at..]];
    }

    private static byte[] MutateText(byte[] seed, Random random)
    {
        var bytes = random.Next(3) == 0 ? Encoding.UTF8.GetBytes(OddStrings[random.Next(OddStrings.Length)].Replace("\\\\", "\\")) : (byte[])seed.Clone();
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++) bytes = random.Next(3) == 0 ? InvalidUtf8(bytes, random) : Edit(bytes, bytes.Length, random);
        return bytes;
    }
}
