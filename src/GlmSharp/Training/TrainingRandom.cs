namespace GlmSharp.Training;

/// <summary>
/// SplitMix64: a tiny deterministic generator whose sequence depends only on the seed, so initialisation and batch
/// sampling are reproducible across runtimes and a resumed run draws exactly the batches the first run would have.
/// </summary>
public struct TrainingRandom(ulong seed)
{
    private ulong _state = seed;

    public static TrainingRandom ForStream(ulong seed, ulong stream, ulong index) =>
        new(Mix(seed ^ Mix(stream + 0x9E3779B97F4A7C15UL * (index + 1))));

    public ulong NextUInt64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, exclusiveMax).</summary>
    public int NextInt(int exclusiveMax) => (int)(NextDouble() * exclusiveMax);

    /// <summary>Standard normal by the Box–Muller transform.</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
