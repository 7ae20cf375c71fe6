namespace GlmSharp.Tests.Support;

/// <summary>One row of a step: a token of a sequence at a position; every row asks for its logits.</summary>
public readonly record struct ScheduledRow(int Sequence, int Token, int Position);

/// <summary>
/// Sequences of different prompt lengths run together the way a server runs them: the first step prefills the
/// first half of the prompts; the second prefills the rest while the first half decode a token each; every later
/// step decodes one token of every sequence. The decoded tokens are fixed in advance (random ids), so two engines
/// are fed exactly the same rows.
/// </summary>
public sealed class MixedBatchSchedule
{
    public int[][] Prompts { get; }
    public int[][] Decoded { get; }
    public IReadOnlyList<ScheduledRow[]> Steps { get; }

    public MixedBatchSchedule(TinyGlmSpec spec, int sequences, int decodeSteps, int seed) : this(spec.RandomPrompt, sequences, decodeSteps, seed)
    {
    }

    /// <param name="randomPrompt">Token ids of a given length from a seed, within the model's vocabulary.</param>
    public MixedBatchSchedule(Func<int, int, int[]> randomPrompt, int sequences, int decodeSteps, int seed)
    {
        var random = new Random(seed);
        Prompts = Enumerable.Range(0, sequences).Select(s => randomPrompt(3 + random.Next(24) + 7 * s % 40, seed + 17 * s)).ToArray();
        Decoded = Enumerable.Range(0, sequences).Select(s => randomPrompt(decodeSteps, seed + 1000 + s)).ToArray();
        int early = (sequences + 1) / 2;
        var steps = new List<ScheduledRow[]>();
        var next = new int[sequences];
        steps.Add(Enumerable.Range(0, early).SelectMany(s => PromptRows(s)).ToArray());
        steps.Add(Enumerable.Range(0, early).Select(s => DecodeRow(s, next))
            .Concat(Enumerable.Range(early, sequences - early).SelectMany(s => PromptRows(s))).ToArray());
        for (int step = 1; step < decodeSteps; step++)
            steps.Add(Enumerable.Range(0, sequences).Where(s => next[s] < decodeSteps).Select(s => DecodeRow(s, next)).ToArray());
        steps.Add(Enumerable.Range(0, sequences).Where(s => next[s] < decodeSteps).Select(s => DecodeRow(s, next)).ToArray());
        Steps = steps.Where(rows => rows.Length > 0).ToArray();
    }

    public int Sequences => Prompts.Length;

    /// <summary>Every token of a sequence in order: its prompt, then its decoded tokens.</summary>
    public int[] Tokens(int sequence) => [.. Prompts[sequence], .. Decoded[sequence]];

    public int TotalRows => Steps.Sum(step => step.Length);

    private IEnumerable<ScheduledRow> PromptRows(int sequence) =>
        Prompts[sequence].Select((token, i) => new ScheduledRow(sequence, token, i));

    private ScheduledRow DecodeRow(int sequence, int[] next)
    {
        int i = next[sequence]++;
        return new ScheduledRow(sequence, Decoded[sequence][i], Prompts[sequence].Length + i);
    }
}
