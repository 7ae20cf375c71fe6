namespace GlmSharp.Training;

/// <summary>One named tensor inside <see cref="TrainingParameters"/>; the name is its Hugging Face tensor name.</summary>
public sealed record TrainingParameter(string Name, int[] Shape, int Offset, int Length)
{
    /// <summary>Matrices take weight decay; norm weights and biases (rank 1) do not, as in GPT-style AdamW setups.</summary>
    public bool Decays => Shape.Length >= 2;

    public Span<float> Of(float[] storage) => storage.AsSpan(Offset, Length);
}

/// <summary>
/// All trainable values in one contiguous array, with gradients in a second array of the same layout, so the optimiser,
/// gradient clipping and checkpoints treat the model as one vector.
/// </summary>
public sealed class TrainingParameters
{
    private readonly Dictionary<string, TrainingParameter> _byName;

    public TrainingParameters(IEnumerable<(string Name, int[] Shape)> layout)
    {
        var all = new List<TrainingParameter>();
        int offset = 0;
        foreach (var (name, shape) in layout)
        {
            int length = checked(shape.Aggregate(1, (p, d) => p * d));
            all.Add(new TrainingParameter(name, shape, offset, length));
            offset = checked(offset + length);
        }
        All = all;
        _byName = all.ToDictionary(p => p.Name);
        Values = new float[offset];
        Gradients = new float[offset];
    }

    public IReadOnlyList<TrainingParameter> All { get; }
    public float[] Values { get; }
    public float[] Gradients { get; }
    public int Count => Values.Length;

    public TrainingParameter this[string name] => _byName[name];

    public bool Contains(string name) => _byName.ContainsKey(name);

    public void ZeroGradients() => Array.Clear(Gradients);

    /// <summary>
    /// Matrices from N(0, std²) (a stream per parameter), biases (and GLM-4.5's router selection bias) zero, norm
    /// weights one, as Hugging Face initialises a model.
    /// </summary>
    public void InitializeLikeHuggingFace(ulong seed, float std)
    {
        for (int index = 0; index < All.Count; index++)
        {
            var p = All[index];
            var span = p.Of(Values);
            if (p.Name.EndsWith("norm.weight", StringComparison.Ordinal)) span.Fill(1f);
            else if (p.Name.EndsWith("bias", StringComparison.Ordinal)) span.Clear();
            else
            {
                var random = TrainingRandom.ForStream(seed, 1, (ulong)index);
                for (int i = 0; i < span.Length; i++) span[i] = (float)(random.NextGaussian() * std);
            }
        }
    }
}
