using System.CommandLine;
using GlmSharp.Configs;
using GlmSharp.Inference;

namespace GlmSharp.Cli;

/// <summary>The sampling options of `generate` and `chat`; unset ones fall back to the checkpoint's generation_config.json, then to GlmSharp's defaults.</summary>
internal sealed class SamplingOptionSet
{
    // The ranges are SamplingOptions.Validate's, so that a value the engine would refuse never gets past the parser.
    private readonly Option<float?> _temperature = new Option<float?>("--temperature") { Description = "Sampling temperature; 0 = greedy" }
        .Within(NumericRange.AtLeast(0));
    private readonly Option<int?> _topK = new Option<int?>("--top-k") { Description = "Keep the k most likely tokens (0 = all)" }
        .Within(NumericRange.AtLeast(0));
    private readonly Option<float?> _topP = new Option<float?>("--top-p") { Description = "Nucleus sampling mass (1 = off)" }
        .Within(NumericRange.LeftOpen(0, 1));
    private readonly Option<float?> _minP = new Option<float?>("--min-p") { Description = "Drop tokens below this fraction of the best one's probability (0 = off)" }
        .Within(NumericRange.RightOpen(0, 1));
    private readonly Option<float> _repeat = new Option<float>("--repeat-penalty") { Description = "Repetition penalty (1 = off)", DefaultValueFactory = _ => 1f }
        .Within(NumericRange.Above(0));
    private readonly Option<float> _presence = new Option<float>("--presence-penalty") { Description = "Presence penalty", DefaultValueFactory = _ => 0f }
        .Within(NumericRange.Any);
    private readonly Option<float> _frequency = new Option<float>("--frequency-penalty") { Description = "Frequency penalty", DefaultValueFactory = _ => 0f }
        .Within(NumericRange.Any);
    private readonly Option<int?> _seed = new Option<int?>("--seed") { Description = "Random seed: the same seed gives the same output" }
        .Within(NumericRange.Any);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _temperature, _topK, _topP, _minP, _repeat, _presence, _frequency, _seed })
            command.Options.Add(option);
    }

    public SamplingOptions Read(ParseResult parse, GenerationConfig defaults)
    {
        var checkpoint = SamplingOptions.Defaults(defaults);
        return checkpoint with
        {
            Temperature = parse.GetValue(_temperature) ?? checkpoint.Temperature,
            TopK = parse.GetValue(_topK) ?? checkpoint.TopK,
            TopP = parse.GetValue(_topP) ?? checkpoint.TopP,
            MinP = parse.GetValue(_minP) ?? checkpoint.MinP,
            RepetitionPenalty = parse.GetValue(_repeat),
            PresencePenalty = parse.GetValue(_presence),
            FrequencyPenalty = parse.GetValue(_frequency),
            Seed = parse.GetValue(_seed),
        };
    }
}
